"""AMI actions of the simulator: the ones a CTI engine uses, with Asterisk's responses and event lists (``Originate``
in ``ami_originate``, the queue, database and dialplan actions in their own modules)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ctiserver.sim import bridging, media
from ctiserver.sim.ami_commands import list_commands, permitted
from ctiserver.sim.ami_filter import parse as parse_filter
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
    _list_event(s, "CoreShowChannelsComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(chans)))])


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
        _list_event(s, "Status", aid, [*chan_headers(ch), ("Application", ch.app_name), ("Data", ch.app_data)])
    _list_event(s, "StatusComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(chans)))])


_ = ChanState  # re-exported for handlers that compare states
