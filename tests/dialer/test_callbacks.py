"""Call-backs: scheduled by agents (personal or for the queue) and automatic for abandoned inbound calls —
placed by the call-back campaign and tracked as attempts; a caller who calls again is not called back."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.clock import ManualClock
from ctiserver.config import ConfigError, load_config
from ctiserver.dialer.callbacks import AbandonedCallbackConfig, AbandonedCallbacks
from ctiserver.dialer.config import DialerConfig
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode
from ctiserver.dialer.preview import Previewer
from ctiserver.dialer.runner import DialRefused
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import MemoryDialerStore
from ctiserver.events import InMemoryBus, new_event
from tests.dialer.fakes import Behaviour, FakeDesk, FakeLines
from tests.dialer.test_runner import ALWAYS, _run_until

NUMBER = "+4930 1000042"
E164 = "+49301000042"


async def _service(clock: ManualClock, agents: int = 2) -> tuple[DialerService, FakeLines, FakeDesk, InMemoryBus]:
    bus = InMemoryBus()
    lines = FakeLines(clock, default=Behaviour(Outcome.HUMAN, 2.0))
    desk = FakeDesk.with_agents(clock, agents, talk=10.0, wrap=2.0)
    service = DialerService(MemoryDialerStore(), lines, desk, bus, clock)
    # a German call centre: a caller ID in the national form (030 …) is read in the campaign's region
    settings = CampaignSettings(name="callbacks", mode=PacingMode.PROGRESSIVE, windows=ALWAYS, region="DE")
    await service.load([settings])
    await service.start("callbacks")
    return service, lines, desk, bus


async def _abandon(cb: AbandonedCallbacks, clock: ManualClock, call_id: str, waited: float = 30.0) -> None:
    now = clock.now()
    await cb.handle(
        new_event("call.created", call_id, {"call_id": call_id, "caller_num": NUMBER, "direction": "in"}, now)
    )
    await cb.handle(
        new_event("queue.left", call_id, {"queue": "support", "outcome": "abandoned", "waited": waited}, now)
    )


async def test_abandoned_inbound_call_is_called_back_once_and_tracked() -> None:
    clock = ManualClock()
    service, lines, desk, bus = await _service(clock)
    attempts = bus.subscribe("dialer.attempt")
    cb = AbandonedCallbacks(service, bus, AbandonedCallbackConfig(delay=30.0))
    try:
        await _abandon(cb, clock, "call-1")
        await _abandon(cb, clock, "call-2")  # abandoned again: still one call-back
        await _abandon(cb, clock, "call-3", waited=1.0)  # too short to count
        assert cb.scheduled == 1
        await clock.advance(20.0)
        assert lines.placed == []  # not before the delay
        await _run_until(clock, lambda: attempts.queue.qsize() >= 1, limit=120)
    finally:
        await service.close()
    assert [n for _, n, _ in lines.placed] == [E164]
    ev = attempts.queue.get_nowait()
    assert ev.data["number"] == E164 and ev.data["outcome"] == "human"
    assert desk.pops[0][1]["fields"]["abandoned_call"] == "call-1"
    [contact] = await service.store.contacts("callbacks")
    assert contact.status is ContactStatus.DONE


@pytest.mark.parametrize("min_wait, expected", [(3.0, 1), (10.0, 0)])
async def test_an_app_queue_caller_who_abandoned_is_called_back_from_the_trackers_events(
    min_wait: float, expected: int
) -> None:
    """app_queue deployments: the call tracker's ``queue.left`` (here from a real Asterisk 22's
    ``QueueCallerAbandon``, ``HoldTime: 4``) says ``wait_seconds``, the ACD's says ``waited``; both count. The
    trace's caller 5550100 is not a dialable number: it is replaced by one."""
    from ctiserver.calls.replay import read_capture
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.codec import AmiDecoder
    from ctiserver.pbx.ami.messages import AmiEvent
    from tests.conftest import TRACES

    raw = read_capture(TRACES / "05-queue-abandoned" / "ami.raw")
    raw = raw.replace(b"CallerIDNum: 5550100", f"CallerIDNum: {E164}".encode())
    clock = ManualClock()
    service, _lines, _desk, bus = await _service(clock)
    cb = AbandonedCallbacks(service, bus, AbandonedCallbackConfig(delay=30.0, min_wait=min_wait))
    tracker, left = Tracker(clock), []
    try:
        for msg in AmiDecoder().feed(raw):
            for ev in tracker.feed(msg) if isinstance(msg, AmiEvent) else []:
                left += [ev.data] if ev.type == "queue.left" else []
                await cb.handle(ev)
    finally:
        await service.close()
    [data] = left  # the tracker's wait runs from the channel's QueueCallerJoin: a little over HoldTime
    assert data["outcome"] == "abandoned" and 4.0 <= data["wait_seconds"] < 6.0
    assert cb.scheduled == expected


@pytest.mark.parametrize(
    "again, outcome, called_back",
    [
        ("030 1000042", "answered", False),  # through to an agent: the call-back is not wanted any more
        ("+49 30 1000042", None, True),  # hung up before any queue (on the greeting): still wanted
    ],
)
async def test_caller_who_gets_through_on_a_new_call_is_not_called_back(
    again: str, outcome: str | None, called_back: bool
) -> None:
    clock = ManualClock()
    service, lines, _desk, bus = await _service(clock)
    cb = AbandonedCallbacks(service, bus, AbandonedCallbackConfig(delay=30.0))
    try:
        await _abandon(cb, clock, "call-1")
        now = clock.now()
        await cb.handle(new_event("call.created", "call-9", {"call_id": "call-9", "caller_num": again}, now))
        if outcome:
            await cb.handle(new_event("queue.entered", "call-9", {"queue": "support"}, now))
            await cb.handle(new_event("queue.left", "call-9", {"queue": "support", "outcome": outcome}, now))
        await _run_until(clock, lambda: False, limit=90)
    finally:
        await service.close()
    assert [n for _, n, _ in lines.placed] == ([E164] if called_back else [])
    assert cb.cancelled == (0 if called_back else 1)


async def test_personal_callback_waits_for_its_agent() -> None:
    clock = ManualClock()
    service, lines, desk, _bus = await _service(clock)
    try:
        desk.agents[1].phase = desk.agents[1].phase.__class__("talking")
        await service.schedule_callback("callbacks", NUMBER, clock.now() + 5.0, agent="a1", name="Frau Weber")
        await _run_until(clock, lambda: False, limit=30)
        assert lines.placed == []  # a1 is busy; a0 is free but it is not a0's call-back
        desk.agents[1].phase = desk.agents[1].phase.__class__("ready")
        await _run_until(clock, lambda: bool(desk.pops), limit=30)
    finally:
        await service.close()
    assert desk.pops[0][0] == "a1" and desk.pops[0][1]["name"] == "Frau Weber"


async def test_preview_shows_then_dials_by_hand_or_after_n_seconds() -> None:
    clock = ManualClock()
    bus = InMemoryBus()
    shown = bus.subscribe("dialer.preview")
    lines = FakeLines(clock, default=Behaviour(Outcome.HUMAN, 2.0))
    desk = FakeDesk.with_agents(clock, 2, talk=10.0, wrap=2.0)
    service = DialerService(MemoryDialerStore(), lines, desk, bus, clock)
    await service.load([CampaignSettings(name="pv", mode=PacingMode.PREVIEW, windows=ALWAYS, preview_auto_dial=15.0)])
    await service.add_contacts(
        "pv",
        [Contact(f"k{i}", "pv", f"+4930{1000000 + i}", "Europe/Berlin", name=f"N{i}") for i in range(3)],
    )
    await service.start("pv")
    preview = Previewer(service.runner("pv"))
    try:
        await _run_until(clock, lambda: False, limit=10)
        assert lines.placed == []  # preview never dials by itself
        first = await preview.next("a0")
        assert first is not None and shown.queue.get_nowait().data["agent"] == "a0"
        with pytest.raises(DialRefused):
            await preview.next("a0")  # a0 is held by the preview
        await preview.dial(first.id, "a0")
        second = await preview.next("a1")
        assert second is not None and second.id != first.id
        await _run_until(clock, lambda: len(lines.placed) >= 2, limit=30)  # auto-dial after 15 s
        await _run_until(clock, lambda: len(desk.pops) >= 2, limit=30)
    finally:
        await service.close()
    assert [p[0] for p in desk.pops] == ["a0", "a1"]
    assert [n for _, n, _ in lines.placed] == [first.number, second.number]


async def test_campaign_changes_written_by_the_cli_reach_the_running_service() -> None:
    clock = ManualClock()
    service, _lines, _desk, _bus = await _service(clock)
    try:
        assert service.runner("callbacks").state.value == "running"
        await service.store.save_campaign("callbacks", service.runner("callbacks").settings.model_dump(), "paused")
        await service.store.save_campaign("new", CampaignSettings(name="new").model_dump(mode="json"), "draft")
        assert sorted(await service.sync_once()) == ["callbacks: paused", "new: added"]
        assert service.runner("callbacks").state.value == "paused" and service.runner("new").state.value == "draft"
        assert await service.sync_once() == []  # nothing new
        await service.start("callbacks")  # our own write is not taken for an external change
        assert await service.sync_once() == []
        assert service.runner("callbacks").state.value == "running"
    finally:
        await service.close()


def test_call_backs_due_after_their_deadline_are_a_configuration_error(tmp_path: Path) -> None:
    """A ``delay`` as long as ``within_minutes`` would let every call-back expire before it is due: the daemon
    refuses the file and says where."""
    path = tmp_path / "ctiserver.yaml"
    path.write_text("dialer:\n  abandoned_callbacks: {delay: 3600, within_minutes: 30}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={}).section("dialer", DialerConfig)
    assert "abandoned_callbacks" in str(exc.value)
    assert "delay (3600 s) must be shorter than within_minutes (30 min)" in str(exc.value)
