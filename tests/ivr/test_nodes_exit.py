"""queue, transfer, callback, record_message, hangup; caller hang-up at any point; ivr.step events."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.clock import ManualClock
from ctiserver.control.fake import FakeControl
from ctiserver.events.bus import InMemoryBus
from ctiserver.ivr.ports import MemoryCallbacks, QueueRequest
from ctiserver.ivr.run_state import IvrSettings, Services
from ctiserver.ivr.runner import Interpreter
from ctiserver.ivr.session import CallInfo, IvrEnd
from tests.ivr.util import CALLER, run, script_of

QUEUE = """
script: q
nodes:
  s: {type: set, vars: {account: "{{ caller.number[-4:] }}"}, next: m}
  m:
    type: menu
    prompt: [menu]
    options: {1: sales, 2: op, 3: cb, 4: rec}
  sales:
    type: queue
    queue: sales
    skills: {english: 2, sales: 1}
    priority: 7
    announcements: [please-wait]
  op: {type: transfer, to: "{{ vars.account }}", context: from-internal}
  cb:
    type: callback
    prompt: [press-1-callback]
    queue: support
    confirm: [confirmed]
    accepted: bye
    declined: sales
  rec: {type: record_message, prompt: [leave-message], max_seconds: 30, next: bye}
  bye: {type: hangup, sounds: [goodbye], outcome: self_service}
"""


class Target:
    def __init__(self) -> None:
        self.requests: list[QueueRequest] = []

    async def enqueue(self, request: QueueRequest) -> str | None:
        self.requests.append(request)
        return "answered by 1001"


async def test_queue_hands_over_with_skills_priority_and_attached_data() -> None:
    target = Target()
    settings = IvrSettings(vars={"billing_url": "http://billing.local"})  # a site setting, not call data
    session, fake = await run(script_of(QUEUE), ["1"], services=Services(queue=target, settings=settings))
    assert session.end is IvrEnd.QUEUE and session.target == "sales"
    [req] = target.requests
    assert (req.queue, dict(req.skills), req.priority, req.announcements) == (
        "sales",
        {"english": 2, "sales": 1},
        7,
        ("sound:please-wait",),
    )
    assert req.attached == {"account": "4567"} and req.caller_number == CALLER
    assert session.vars["billing_url"] == "http://billing.local"  # scripts see it as vars.billing_url
    assert req.ivr_path == ("s", "m", "sales")
    assert "hangup" not in fake.methods()  # the ACD owns the call now


async def test_queue_without_acd_continues_in_the_dialplan() -> None:
    session, fake = await run(
        script_of(QUEUE), ["1"], services=Services(settings=IvrSettings(queue_context="qs"))
    )
    assert session.end is IvrEnd.QUEUE
    last = fake.calls[-1]
    assert (last.method, last.args["context"], last.args["extension"]) == (
        "continue_in_dialplan",
        "qs",
        "sales",
    )


async def test_transfer_renders_destination() -> None:
    session, fake = await run(script_of(QUEUE), ["2"])
    last = fake.calls[-1]
    assert (last.method, last.args["context"], last.args["extension"]) == (
        "continue_in_dialplan",
        "from-internal",
        "4567",
    )
    assert session.end is IvrEnd.TRANSFER and session.target == "4567"


async def test_callback_accepted_records_request_and_outcome() -> None:
    callbacks = MemoryCallbacks()
    session, fake = await run(script_of(QUEUE), ["3", "1"], services=Services(callbacks=callbacks))
    [req] = callbacks.requests
    assert (req.call_id, req.number, req.queue) == ("chan-1", CALLER, "support")
    assert session.path == ["s", "m", "cb", "bye"]
    assert session.outcome == "self_service"  # an explicit node outcome wins over the implicit "callback"
    assert session.vars["callback_number"] == CALLER
    assert fake.played()[-2:] == ["sound:confirmed", "sound:goodbye"]


async def test_callback_declined() -> None:
    callbacks = MemoryCallbacks()
    session, _ = await run(script_of(QUEUE), ["3", "2"], services=Services(callbacks=callbacks))
    assert callbacks.requests == [] and session.path[-1] == "sales"


async def test_record_message_until_hash() -> None:
    session, fake = await run(script_of(QUEUE), ["4", "#"])
    name = session.vars["message"]
    assert name.startswith("ivr-chan-1-")
    assert fake.recordings[name] == "done"
    assert "sound:beep" in fake.played()
    assert session.outcome == "self_service" and session.end is IvrEnd.HANGUP


@pytest.mark.parametrize("inputs", [["!hangup"], ["4", "!hangup"], ["3", "!hangup"]])
async def test_caller_hangup_anywhere_ends_cleanly(inputs: list[str]) -> None:
    session, fake = await run(script_of(QUEUE), inputs)
    assert session.end is IvrEnd.CALLER_HANGUP
    assert session.steps[-1].result == "caller_hangup"
    assert "hangup" not in fake.methods()
    if inputs[0] == "4":
        assert list(fake.recordings.values()) == ["done"]


async def test_hangup_while_waiting_live_and_step_events() -> None:
    clock = ManualClock()
    fake = FakeControl(clock)
    fake.add_channel("c9", live=True)
    bus = InMemoryBus()
    sub = bus.subscribe("ivr.*")
    interp = Interpreter(fake, clock, Services(bus=bus))
    task = asyncio.create_task(interp.run(script_of(QUEUE), CallInfo("call-9", "c9", CALLER)))
    first = await asyncio.wait_for(sub.get(), 5)
    assert (first.type, first.subject, first.data["node"]) == ("ivr.step", "call-9", "s")
    await asyncio.wait_for(fake.channels["c9"].listening.wait(), 5)
    fake.caller_hangup("c9")
    session = await asyncio.wait_for(task, 5)
    assert session.end is IvrEnd.CALLER_HANGUP
    second = await asyncio.wait_for(sub.get(), 5)
    assert (second.data["node"], second.data["result"]) == ("m", "caller_hangup")
    end = await asyncio.wait_for(sub.get(), 5)
    assert (end.data["kind"], end.data["end"], end.data["path"]) == ("end", "caller_hangup", ["s", "m"])


async def test_cancelled_run_leaves_no_task() -> None:
    clock = ManualClock()
    fake = FakeControl(clock)
    fake.add_channel("c1", live=True)
    bus = InMemoryBus()
    sub = bus.subscribe("ivr.step")
    interp = Interpreter(fake, clock, Services(bus=bus))
    task = asyncio.create_task(interp.run(script_of(QUEUE), CallInfo("c1", "c1", CALLER)))
    await asyncio.wait_for(fake.channels["c1"].listening.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    events = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert (events[-1].data["kind"], events[-1].data["end"]) == ("end", "interrupted")


LOOP = """
script: l
nodes:
  m: {type: menu, prompt: [p], options: {1: m2, 9: bye}, retries: 0, on_fail: m}
  m2: {type: menu, prompt: [p2], options: {1: m, 9: bye}, retries: 0, on_fail: m}
  bye: {type: hangup}
"""


async def test_step_limit_stops_a_runaway_script() -> None:
    session, fake = await run(
        script_of(LOOP), ["1"] * 50, services=Services(settings=IvrSettings(max_steps=20))
    )
    assert session.end is IvrEnd.ERROR and len(session.steps) == 20
    assert fake.methods()[-1] == "hangup"


@pytest.mark.parametrize(
    ("to", "context"),
    [("1002", "from-agents"), ("+380441234567", "ctiserver-outbound"), ("0441234567", "ctiserver-outbound")],
)
async def test_transfer_default_context_by_destination(to: str, context: str) -> None:
    script = script_of(f"script: t\nnodes:\n  x: {{type: transfer, to: '{to}'}}\n")
    _, fake = await run(script)
    last = fake.calls[-1]
    assert (last.args["context"], last.args["extension"]) == (context, to)


async def test_a_failing_node_ends_the_call_with_an_error_not_silence() -> None:
    script = script_of("""
script: t
nodes:
  b: {type: branch, conditions: [{if: "vars.missing()", goto: x}], else: x}
  x: {type: hangup}
""")
    session, fake = await run(script)
    assert session.end is IvrEnd.ERROR and session.steps[0].result.startswith("error: UndefinedError")  # type: ignore[union-attr]
    assert fake.methods()[-1] == "hangup"
