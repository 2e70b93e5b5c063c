"""The ``Dial`` dialplan application (app_dial): ring every target of ``A&B,<timeout>``, bridge the first that
answers, cancel the others.

A target that ends before answering (a SIP rejection behind a trunk: 486, 404, 503 …) gets its ``DialEnd`` with
``ast_hangup_cause_to_dial_status`` of its cause, and its cause becomes the caller's (``Hangup()`` then ends
the caller with it). When every target has failed, ``DIALSTATUS`` is what app_dial's ``handle_cause`` counts
make of them: BUSY if one was busy (17), else CONGESTION (34), else CHANUNAVAIL (a target that could not be
reached, or any other cause but 16/19), else NOANSWER."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ctiserver.sim import bridging
from ctiserver.sim.dial import dial_event, dial_out, start_far_end
from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

APPDIAL = ("AppDial", "(Outgoing Line)")
BUSY, CONGESTION = 17, 34


def dial_status(cause: int) -> str:
    """``ast_hangup_cause_to_dial_status``: the ``DialStatus`` of a target that ended with ``cause``."""
    if cause == BUSY:
        return "BUSY"
    if cause == CONGESTION:
        return "CONGESTION"
    if cause in (3, 20):  # no route to destination, subscriber absent (unregistered)
        return "CHANUNAVAIL"
    return "NOANSWER"


def final_status(causes: list[int]) -> str:
    """``DIALSTATUS`` once every target failed (app_dial's ``handle_cause`` counts, then its precedence)."""
    if BUSY in causes:
        return "BUSY"
    if CONGESTION in causes:
        return "CONGESTION"
    if any(c not in (16, 19) for c in causes):
        return "CHANUNAVAIL"
    return "NOANSWER"


async def dial(engine: Engine, ch: Channel, data: str) -> None:
    parts = data.split(",")
    targets = [t for t in parts[0].split("&") if t]
    timeout = float(parts[1]) if len(parts) > 1 and parts[1] else None
    outs: list[tuple[Channel, str]] = []
    causes: list[int] = []
    for target in targets:
        try:
            out = dial_out(
                engine,
                target,
                connected=(ch.caller_name, ch.caller_num),
                linkedid=ch.linkedid,
                exten=ch.exten,
                app=APPDIAL,
            )
        except Exception:
            causes.append(20)  # ast_request failed: the endpoint is not reachable
            continue
        dialstring = target.split("/", 1)[-1]
        outs.append((out, dialstring))
        dial_event(engine, "DialBegin", out, dialstring, caller=ch)
    if not outs:
        engine.set_var(ch, "DIALSTATUS", "CHANUNAVAIL")
        return
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[Channel] = loop.create_future()
    failed: asyncio.Future[None] = loop.create_future()
    ringing_outs = {out.id for out, _ in outs}

    def on_ringing(out: Channel) -> None:
        dial_event(engine, "DialState", out, "", caller=ch, status="RINGING")

    def on_answer(out: Channel) -> None:
        if not answered.done():
            answered.set_result(out)

    def out_gone(out: Channel) -> None:
        """A target ended by itself before anyone answered (we did not cancel it)."""
        if out.id not in ringing_outs or answered.done() or failed.done():
            return
        ringing_outs.discard(out.id)
        causes.append(out.hangup_cause)
        dial_event(engine, "DialEnd", out, "", caller=ch, status=dial_status(out.hangup_cause))
        ch.tags["hangupcause"] = out.hangup_cause
        if not ringing_outs:
            failed.set_result(None)

    removers = []
    for out, _ in outs:
        out.tags["on_ringing"] = on_ringing
        out.tags["on_answer"] = on_answer
        removers.append(engine.on_hangup(out, out_gone))
        start_far_end(engine, out)

    def settle() -> list[Channel]:
        """Stop following the targets; those still ringing (ours to cancel)."""
        for remove in removers:
            remove()
        left = [out for out, _ in outs if out.id in ringing_outs and not out.hung_up]
        ringing_outs.clear()
        return left

    def caller_gone(_: Channel) -> None:
        for out in settle():
            if out.bridge is None:
                dial_event(engine, "DialEnd", out, "", caller=ch, status="CANCEL")
                engine.hangup(out, 0, request=False)

    remove_caller = engine.on_hangup(ch, caller_gone)
    either: set[asyncio.Future[Any]] = {answered, failed}
    outcome = asyncio.ensure_future(asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED))
    try:
        await engine.wait_for(outcome, timeout)
    except TimeoutError:
        remove_caller()
        for out in settle():
            dial_event(engine, "DialEnd", out, "", caller=ch, status="NOANSWER")
            engine.hangup(out, 19, request=False)
        engine.set_var(ch, "DIALSTATUS", "NOANSWER")
        return
    finally:
        outcome.cancel()
    remove_caller()
    if not answered.done():
        settle()
        engine.set_var(ch, "DIALSTATUS", final_status(causes))
        return
    winner = answered.result()
    for out in settle():
        if out is not winner:
            dial_event(engine, "DialEnd", out, "", caller=ch, status="CANCEL")
            engine.hangup(out, 26, request=False)
    engine.set_state(ch, ChanState.UP)
    winner.exten = ""
    dial_event(engine, "DialEnd", winner, "", caller=ch, status="ANSWER")
    engine.newexten(winner, *APPDIAL)
    engine.set_var(ch, "DIALSTATUS", "ANSWER")
    ch.tags["dial_bridge"] = winner.tags["dial_bridge"] = True
    br = bridging.create(engine, bridge_type="mixing", bridge_class="basic")
    bridging.enter(engine, br, winner)
    bridging.enter(engine, br, ch)
    await ch.done.wait()
