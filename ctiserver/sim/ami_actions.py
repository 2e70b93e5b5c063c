"""AMI actions of the simulator: the ones a CTI engine uses, with Asterisk's responses and event lists."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ctiserver.sim import bridging, media
from ctiserver.sim.ami_commands import list_commands, permitted
from ctiserver.sim.ami_filter import parse as parse_filter
from ctiserver.sim.dial import dial_event, dial_out, start_far_end
from ctiserver.sim.dial_app import dial_status
from ctiserver.sim.engine import AllocationFailed
from ctiserver.sim.fmt import bridge_headers, chan_headers
from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession

Handler = Callable[["AmiSession", "str | None", dict[str, str], list[tuple[str, str]]], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
UNKNOWN = "Invalid/unknown command: {}. Use Action: ListCommands to show available commands."


def action(name: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        HANDLERS[name.lower()] = fn
        return fn

    return deco


async def dispatch(
    s: AmiSession, name: str, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]
) -> None:
    handler = HANDLERS.get(name)
    if handler is None:
        s.respond(aid, "Error", UNKNOWN.format(msg.get("action", name)))
        return
    if not permitted(s.writeperm, name):  # manager.c process_message: the user's write classes
        s.respond(aid, "Error", "Permission denied")
        return
    await handler(s, aid, msg, headers)


def find_channel(s: AmiSession, name: str) -> Channel | None:
    for ch in s.sim.engine.channels.values():
        if ch.name == name or ch.id == name:
            return ch
    return None


def _list_event(s: AmiSession, name: str, aid: str | None, body: list[tuple[str, str]]) -> None:
    headers = [("Event", name)]
    if aid is not None:
        headers.append(("ActionID", aid))
    s.event(headers + body)


@action("Ping")
async def _ping(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    s.respond(aid, "Success", None, [("Ping", "Pong"), ("Timestamp", f"{s.sim.clock.now():.6f}")])


@action("ListCommands")
async def _list_commands(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    list_commands(s, aid)


@action("Events")
async def _events(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    mask = msg.get("eventmask", "on").lower()
    s.events_on = mask not in ("off", "none", "")
    if s.events_on and s not in s.sim.hub.ami_sinks:
        s.sim.hub.ami_sinks.append(s)
    s.respond(aid, "Success", "Events On" if s.events_on else "Events Off")


@action("Filter")
async def _filter(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    """Asterisk 22's action_filter: Operation Add only; the filter lasts as long as the session."""
    if msg.get("operation", "").lower() != "add":
        s.respond(aid, "Error", "Unknown operation")
        return
    try:
        s.filters.append(parse_filter(msg.get("matchcriteria"), msg.get("filter", "")))
    except (ValueError, re.error):
        s.respond(aid, "Error", "Filter did not compile.  Check the syntax of the filter given.")
        return
    s.respond(aid, "Success", "Success")


@action("CoreShowChannels")
async def _core_show(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    s.respond(aid, "Success", "Channels will follow", [("EventList", "start")])
    chans = list(s.sim.engine.channels.values())
    now = s.sim.clock.now()
    for ch in chans:
        dur = int(now - ch.created)
        _list_event(
            s,
            "CoreShowChannel",
            aid,
            [
                *chan_headers(ch),
                ("BridgeId", ch.bridge.id if ch.bridge else ""),
                ("Application", ch.app_name),
                ("ApplicationData", ch.app_data),
                ("Duration", f"{dur // 3600:02d}:{dur // 60 % 60:02d}:{dur % 60:02d}"),
            ],
        )
    _list_event(
        s, "CoreShowChannelsComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(chans)))]
    )


@action("DeviceStateList")
async def _device_states(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    """res_manager_devicestate: the device state cache, one ``DeviceStateChange`` each (the endpoints')."""
    s.respond(aid, "Success", "Device State Changes will follow", [("EventList", "start")])
    eps = [ep for ep in s.sim.engine.endpoints.values() if ep.tech == "PJSIP"]
    for ep in eps:
        _list_event(s, "DeviceStateChange", aid, [("Device", ep.name), ("State", ep.device_state())])
    _list_event(s, "DeviceStateListComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(eps)))])


@action("Hangup")
async def _hangup(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    target = msg.get("channel", "")
    cause = int(msg.get("cause", "16") or 16)
    if target.startswith("/") and target.endswith("/") and len(target) > 2:
        rx = re.compile(target[1:-1])
        chans = [c for c in s.sim.engine.channels.values() if rx.search(c.name)]
        for each in chans:
            s.sim.engine.hangup(each, cause, soft=True)
        s.respond(aid, "Success", f"{len(chans)} channels hung up.")
        return
    ch = find_channel(s, target)
    if ch is None:
        s.respond(aid, "Error", "No such channel")
        return
    s.sim.engine.hangup(ch, cause, soft=True)
    s.respond(aid, "Success", "Channel Hungup")


@action("Setvar")
async def _setvar(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    var = msg.get("variable", "")
    if not var:
        s.respond(aid, "Error", "No variable specified")
        return
    name = msg.get("channel")
    if name:
        ch = find_channel(s, name)
        if ch is None:
            s.respond(aid, "Error", "No such channel")
            return
        s.sim.engine.set_var(ch, var, msg.get("value", ""))
    else:
        s.sim.engine.config.globals[var] = msg.get("value", "")
    s.respond(aid, "Success", "Variable Set")


@action("Getvar")
async def _getvar(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    var = msg.get("variable", "")
    if not var:
        s.respond(aid, "Error", "No variable specified")
        return
    name = msg.get("channel")
    if name:
        ch = find_channel(s, name)
        if ch is None:
            s.respond(aid, "Error", "No such channel")
            return
        value = s.sim.engine.dialplan.subst(ch, "${" + var + "}")
    else:
        value = s.sim.engine.config.globals.get(var, "")
    s.respond(aid, "Success", None, [("Variable", var), ("Value", value)])


def _parse_callerid(text: str) -> tuple[str, str]:
    m = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', text)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return "", text.strip()


@action("Originate")
async def _originate(
    s: AmiSession, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]
) -> None:
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


@action("Redirect")
async def _redirect(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    """manager.c ``action_redirect``: the headers are checked first (all four are required), then the channel."""
    name, priority = msg.get("channel", ""), msg.get("priority", "")
    for header, value in (("Channel", name), ("Context", msg.get("context")), ("Exten", msg.get("exten"))):
        if not value:
            s.respond(aid, "Error", f"{header} not specified")
            return
    if not priority:
        s.respond(aid, "Error", "Priority not specified")
        return
    if not priority.strip().isdigit() or int(priority) < 1:  # labels are not modelled
        s.respond(aid, "Error", "Priority is invalid")
        return
    ch = find_channel(s, name)
    if ch is None:
        s.respond(aid, "Error", f"Channel does not exist: {name}")
        return
    if ch.hangup_requested:
        s.respond(aid, "Error", "Redirect failed, channel not up.")
        return
    s.sim.redirect(ch, msg["context"], msg["exten"], int(priority))
    s.respond(aid, "Success", "Redirect successful")


@action("BlindTransfer")
async def _blind(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    engine = s.sim.engine
    ch = find_channel(s, msg.get("channel", ""))
    if ch is None:
        s.respond(aid, "Error", "No such channel")
        return
    context, exten = msg.get("context", ch.context), msg.get("exten", "")
    br = ch.bridge
    if br is None or not exten:
        s.respond(aid, "Error", "Transfer failed" if exten else "No extension specified")
        return
    peers = [c for c in br.channels if c is not ch]
    s.respond(aid, "Success", "Transfer succeeded")
    engine.hub.ami(
        "BlindTransfer",
        "call,all",
        [("Result", "Success")]
        + chan_headers(ch, "Transferer")
        + (chan_headers(peers[0], "Transferee") if peers else [])
        + bridge_headers(br)
        + [("IsExternal", "Yes"), ("Context", context), ("Extension", exten)],
    )
    ch.tags["transfer"] = (exten, context)
    engine.run_hooks(ch)  # app_queue: AgentComplete (Reason: transfer)
    br.destroyed = True  # the transferee stays when the transferer leaves
    bridging.leave(engine, ch)
    for peer in peers:
        s.sim.redirect(peer, context, exten, 1, keep_hooks=False)
    br.destroyed = False
    bridging.destroy(engine, br)
    engine.hangup(ch, 16, request=False)


@action("Atxfer")
async def _atxfer(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    from ctiserver.sim.atxfer import TransferError, attended_transfer

    ch = find_channel(s, msg.get("channel", ""))
    if ch is None:
        s.respond(aid, "Error", "No such channel")
        return
    exten = msg.get("exten", "")
    if not exten:
        s.respond(aid, "Error", "No extension specified")
        return
    try:
        attended_transfer(s.sim.engine, ch, exten, msg.get("context") or ch.context)
    except TransferError as exc:
        s.respond(aid, "Error", str(exc))
        return
    s.respond(aid, "Success", "Atxfer successfully queued")


@action("PlayDTMF")
async def _playdtmf(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    ch = find_channel(s, msg.get("channel", ""))
    digit = msg.get("digit", "")
    if ch is None:
        s.respond(aid, "Error", "Channel not found")
        return
    if not digit:
        s.respond(aid, "Error", "No digit specified")
        return
    dur = msg.get("duration", "250") or "250"
    engine = s.sim.engine
    engine.ami_chan("DTMFBegin", ch, [("Digit", digit[0]), ("Direction", "Sent")], privilege="dtmf,all")
    engine.ami_chan(
        "DTMFEnd", ch, [("Digit", digit[0]), ("DurationMs", dur), ("Direction", "Sent")], privilege="dtmf,all"
    )
    s.respond(aid, "Success", "DTMF successfully queued")


@action("MixMonitor")
async def _mixmonitor(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    ch = find_channel(s, msg.get("channel", ""))
    if ch is None:
        s.respond(aid, "Error", "No such channel")
        return
    file = msg.get("file", "") or f"{ch.id}.wav"
    name, _, fmt = file.rpartition(".")
    if ch.mixmonitor is None:
        ch.mixmonitor = media.record(s.sim.engine, f"channel:{ch.id}", name or file, fmt or "wav")
        s.sim.engine.ami_chan("MixMonitorStart", ch)
    s.respond(aid, "Success")


@action("MixMonitorMute")
async def _mixmute(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    ch = find_channel(s, msg.get("channel", ""))
    if ch is None or ch.mixmonitor is None:
        s.respond(aid, "Error", "No such channel" if ch is None else "Cannot set mute flag")
        return
    state = msg.get("state", "1")
    ch.mixmonitor.muted = state.lower() in ("1", "true", "yes", "on")
    s.sim.engine.ami_chan(
        "MixMonitorMute",
        ch,
        [("Direction", msg.get("direction", "both")), ("State", "1" if ch.mixmonitor.muted else "0")],
    )
    s.respond(aid, "Success")


@action("StopMixMonitor")
async def _stopmix(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    ch = find_channel(s, msg.get("channel", ""))
    if ch is None or ch.mixmonitor is None:
        s.respond(aid, "Error", "No such channel" if ch is None else "Could not stop MixMonitor")
        return
    media.recording_stop(s.sim.engine, ch.mixmonitor)
    ch.mixmonitor = None
    s.sim.engine.ami_chan("MixMonitorStop", ch)
    s.respond(aid, "Success")


@action("Status")
async def _status(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    chans = list(s.sim.engine.channels.values())
    s.respond(aid, "Success", "Channel status will follow", [("EventList", "start")])
    for ch in chans:
        _list_event(
            s, "Status", aid, [*chan_headers(ch), ("Application", ch.app_name), ("Data", ch.app_data)]
        )
    _list_event(s, "StatusComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(chans)))])


_ = ChanState  # re-exported for handlers that compare states
