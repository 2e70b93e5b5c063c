"""The simulator's AMI ``Originate`` (manager.c ``action_originate``, ``fast_originate``): the channel dialled,
its ``Dial*`` events, then the dialplan or the application once it answers, and the ``OriginateResponse``."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from ctiserver.sim.ami_actions import action
from ctiserver.sim.dial import dial_event, dial_out, start_far_end
from ctiserver.sim.dial_app import dial_status
from ctiserver.sim.engine import AllocationFailed
from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession


def _parse_callerid(text: str) -> tuple[str, str]:
    m = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', text)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return "", text.strip()


@action("Originate")
async def _originate(s: AmiSession, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]) -> None:
    engine = s.sim.engine
    target = msg.get("channel", "")
    context, exten = msg.get("context", ""), msg.get("exten", "")
    priority = int(msg.get("priority", "1") or 1)
    app, app_data = msg.get("application"), msg.get("data", "")
    timeout = float(msg.get("timeout", "30000") or 30000) / 1000.0
    cid = _parse_callerid(msg.get("callerid", ""))
    is_async = msg.get("async", "false").lower() in ("true", "yes", "1")
    variables: list[tuple[str, str]] = []
    for k, v in headers:
        if k.lower() == "variable":
            for part in v.split(","):
                name, _, value = part.partition("=")
                variables.append((name.strip(), value))
    if not target or (not exten and not app):
        s.respond(aid, "Error", "Channel not specified" if not target else "Exten not specified")
        return
    if "/" not in target:
        s.respond(aid, "Error", "Invalid channel")
        return
    if not app and msg.get("priority"):  # action_originate checks early that the extension exists (if asked
        steps = engine.dialplan.find(context, exten)  # with a priority), before anything is queued
        if steps is None or not 1 <= priority <= len(steps):
            s.respond(aid, "Error", "Extension does not exist.")
            return
    if s.sim.originate_failures > 0:  # the originate thread (async) or the call (sync) could not be started
        s.sim.originate_failures -= 1
        s.respond(aid, "Error", "Originate failed")
        return

    def response(ok: bool, ch: Channel | None, reason: int) -> None:
        """manager.c ``fast_originate``: ActionID only if one was given; Application/Data for an application,
        else Context/Exten; on failure (no channel comes back from ``pbx_outgoing_attempt``) the requested
        channel string and the ChannelId asked for, or ``<unknown>``."""
        where = [("Application", app), ("Data", app_data)] if app else [("Context", context), ("Exten", exten)]
        body = [
            *([("ActionID", aid)] if aid else []),
            ("Response", "Success" if ok else "Failure"),
            ("Channel", ch.name if ch else target),
            *where,
            ("Reason", str(reason)),
            ("Uniqueid", ch.id if ch else (msg.get("channelid") or "<unknown>")),
            ("CallerIDNum", cid[1] or "<unknown>"),
            ("CallerIDName", cid[0] or "<unknown>"),
        ]
        engine.hub.ami("OriginateResponse", "call,all", body)

    try:
        ch = dial_out(
            engine,
            target,
            caller=cid if cid != ("", "") else None,
            connected=cid,
            channel_id=msg.get("channelid") or None,
        )
    except AllocationFailed:
        if is_async:
            s.respond(aid, "Success", "Originate successfully queued")
            response(False, None, 0)
        else:
            s.respond(aid, "Error", "Originate failed")
        return
    for name, value in variables:
        engine.set_var(ch, name, value)
    dialstring = target.split("/", 1)[-1]
    dial_event(engine, "DialBegin", ch, dialstring)
    answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_ringing(c: Channel) -> None:
        dial_event(engine, "DialState", c, dialstring, status="RINGING")

    def on_answer(c: Channel) -> None:
        if not answered.done():
            answered.set_result(True)

    ch.tags["on_ringing"] = on_ringing
    ch.tags["on_answer"] = on_answer
    start_far_end(engine, ch)
    if is_async:
        s.respond(aid, "Success", "Originate successfully queued")

    responded: list[bool] = []

    def failed(reason: int) -> None:
        if responded:
            return
        responded.append(True)
        if is_async:
            response(False, None, reason)
        else:
            s.respond(aid, "Error", "Originate failed")

    def gone(c: Channel) -> None:
        """The channel ended before answering (a busy / refused callee; for a Local channel, ;2 gave up):
        pbx_outgoing_attempt's dial saw only the hang-up, whose cause does not reach the reason — 0."""
        if answered.done():
            return
        answered.set_result(False)
        if s.sim.originate_response_first:
            failed(0)
        dial_event(engine, "DialEnd", c, dialstring, status=dial_status(c.hangup_cause))

    def half_gone(two: Channel) -> None:  # ;2 gave up: ;1 follows, and the response reaches AMI before both
        if not answered.done() and not two.answered.is_set():
            failed(0)

    remove = engine.on_hangup(ch, gone)
    peer = ch.tags.get("local_peer")
    if s.sim.originate_response_first and isinstance(peer, Channel):
        engine.on_hangup(peer, half_gone)

    async def outcome() -> None:
        try:
            up = await engine.wait_for(answered, timeout)
        except TimeoutError:
            remove()
            dial_event(engine, "DialEnd", ch, dialstring, status="NOANSWER")
            engine.hangup(ch, 19, request=False)
            failed(3)
            return
        remove()
        if not up:  # originate_response_first: sent already, before the Hangup events that carry the cause
            failed(0)
            return
        if is_async:
            response(True, ch, 4)
        else:
            s.respond(aid, "Success", "Originate successfully queued")
        dial_event(engine, "DialEnd", ch, dialstring, status="ANSWER")
        if app:
            ch.context, ch.exten, ch.priority = "", "s", 1
            engine.newexten(ch, app, app_data)
            if app.lower() == "stasis":
                name, *args = app_data.split(",")
                ch.tags["task"] = engine.spawn(_stasis_only(s, ch, name, tuple(args)))
            return
        ch.context, ch.exten, ch.priority = context, exten, priority
        engine.dialplan.start(ch)

    if is_async:  # Asterisk runs an async originate on its own thread: the manager session goes on
        engine.spawn(outcome(), name=f"sim:originate:{ch.name}")
    else:
        await outcome()


async def _stasis_only(s: AmiSession, ch: Channel, app: str, args: tuple[str, ...]) -> None:
    s.sim.engine.stasis_enter(ch, app, args)
    await ch.done.wait()
