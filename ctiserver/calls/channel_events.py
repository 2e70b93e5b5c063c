"""Channel-level AMI events: lifecycle (Newchannel/Newstate/Hangup), caller ids, dials, bridges, hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.calls import hangups
from ctiserver.calls.call_state import CallState
from ctiserver.calls.leg_state import CHANNEL_STATES, LegState
from ctiserver.calls.model import Call, HoldSpan, Leg, Role
from ctiserver.calls.text import clean as _clean

if TYPE_CHECKING:
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.messages import AmiEvent


def _newchannel(t: Tracker, ev: AmiEvent, at: float) -> None:
    uid = ev.get("Uniqueid")
    chan = ev.get("Channel")
    if not uid or not chan:
        t.anomaly("newchannel_without_ids")
        return
    if uid in t.legs or uid in t.leg_call:
        t.anomaly("duplicate_newchannel")
        return
    t._new_leg(uid, ev.get("Linkedid") or uid, chan, ev.get("ChannelState"), at, ev)
    t.cel.born(uid)


def _newstate(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is None:
        return
    target = CHANNEL_STATES.get(ev.get("ChannelState") or "", None)
    if target is not None:
        t.set_leg_state(leg, target, at)
    num = _clean(ev.get("ConnectedLineNum"))
    if num:
        leg.callee_num, leg.callee_name = num, _clean(ev.get("ConnectedLineName"))


def _newcallerid(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is not None:
        leg.caller_num = _clean(ev.get("CallerIDNum")) or leg.caller_num
        leg.caller_name = _clean(ev.get("CallerIDName")) or leg.caller_name


def _newconnectedline(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is not None:
        num = _clean(ev.get("ConnectedLineNum"))
        if num:
            leg.callee_num, leg.callee_name = num, _clean(ev.get("ConnectedLineName"))


def _dialbegin(t: Tracker, ev: AmiEvent, at: float) -> None:
    dest = t.leg_for(ev, at, "DestUniqueid", "Dest")
    src = t.leg_for(ev, at)
    if dest is not None and src is not None:
        dest.dialed_by = src.uniqueid
        if dest.role is Role.OUTBOUND and not _reaches_callee(t, src):
            dest.role = Role.AGENT  # dialled for the call by one of its channels, not the party it was placed to


def _reaches_callee(t: Tracker, src: Leg) -> bool:
    """``src`` is the ``;2`` half of an originated Local channel (``Originate Local/<number>@ctx``: ``;2`` runs
    ``<number>@ctx`` and dials the party the call was placed to; ``;1`` runs the Originate's context/exten, which
    connects it — a Dial there reaches an agent)."""
    if src.role is not Role.LOCAL or not src.channel.endswith(";2"):
        return False
    first = t.call_for_leg(src).first_leg()
    return first is not None and first.channel == src.channel[:-1] + "1" and first.dialed_by is None


def _dialend(t: Tracker, ev: AmiEvent, at: float) -> None:
    src = t.leg_for(ev, at)
    if src is not None:
        hangups.dial_end(src, ev.get("DialStatus") or "")


def _bridgeenter(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    bridge = ev.get("BridgeUniqueid")
    if leg is None or not bridge:
        return
    leg.bridges.add(bridge)
    t.bridges.enter(bridge, leg.uniqueid, ev.get("BridgeTechnology"), ev.get("BridgeNumChannels"))
    if leg.bridged is None:
        leg.bridged = at
    call = t.call_for_leg(leg)
    if _has_conversation(call):  # a Local half entering may join two parties too (see ``_reach``)
        t.set_call_state(call, CallState.CONNECTED, at)


def _bridgeleave(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    bridge = ev.get("BridgeUniqueid")
    if leg is None or not bridge:
        return
    leg.bridges.discard(bridge)
    t.bridges.leave(bridge, leg.uniqueid, ev.get("BridgeTechnology"), ev.get("BridgeNumChannels"))
    call = t.call_for_leg(leg)
    if call.state is CallState.CONNECTED and not _has_conversation(call):
        t.set_call_state(call, CallState.ACTIVE, at)


def _has_conversation(call: Call) -> bool:
    """Two live parties share a bridge, directly or through Local pairs."""
    live = [x for x in call.party_legs() if x.state is not LegState.ENDED and x.bridges]
    for i, leg in enumerate(live):
        reach = _reach(call, leg.bridges)
        if any(other.bridges & reach for other in live[i + 1 :]):
            return True
    return False


def _reach(call: Call, bridges: set[str]) -> set[str]:
    """``bridges`` and every bridge joined to them by a live Local pair: ``;1`` in one bridge and ``;2`` in
    another carry the audio between them (a dialler call: the callee with ``;2`` in the Dial bridge, ``;1``
    with the agent)."""
    pairs: dict[str, set[str]] = {}
    for x in call.legs.values():
        if x.role is Role.LOCAL and x.state is not LegState.ENDED:
            pairs.setdefault(x.channel.rsplit(";", 1)[0], set()).update(x.bridges)
    reach = set(bridges)
    grew = True
    while grew:
        grew = False
        for joined in pairs.values():
            if joined & reach and not joined <= reach:
                reach |= joined
                grew = True
    return reach


def _hold(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is None:
        return
    if leg.state is not LegState.UP:
        t.anomaly("hold_when_not_up")
        return
    t.set_leg_state(leg, LegState.HELD, at)
    leg.hold.append(HoldSpan(at))
    call = t.call_for_leg(leg)
    t.emit("call.updated", call.call_id, {"call_id": call.call_id, "change": "hold", "leg": leg.uniqueid}, at)


def _unhold(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is None:
        return
    if leg.state is not LegState.HELD:
        t.anomaly("unhold_when_not_held")
        return
    leg.fsm.move(LegState.UP)
    if leg.hold and leg.hold[-1].end is None:
        leg.hold[-1].end = at
    call = t.call_for_leg(leg)
    t.emit(
        "call.updated", call.call_id, {"call_id": call.call_id, "change": "unhold", "leg": leg.uniqueid}, at
    )


def _bridgedestroy(t: Tracker, ev: AmiEvent, at: float) -> None:
    bridge = ev.get("BridgeUniqueid")
    if bridge:
        t.bridges.destroy(bridge)


def _hanguprequest(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is not None:
        hangups.hangup_request(t, leg)


def _hangup(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is None:
        t.anomaly("hangup_of_unknown_leg")
        return
    try:
        cause: int | None = int(ev.get("Cause") or "")
    except ValueError:
        cause = None
    hangups.hangup(t, leg, at, cause, ev.get("Cause-txt") or "")


HANDLERS = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "NewCallerid": _newcallerid,
    "NewConnectedLine": _newconnectedline,
    "DialBegin": _dialbegin,
    "DialEnd": _dialend,
    "BridgeEnter": _bridgeenter,
    "BridgeLeave": _bridgeleave,
    "BridgeDestroy": _bridgedestroy,
    "Hold": _hold,
    "Unhold": _unhold,
    "HangupRequest": _hanguprequest,
    "Hangup": _hangup,
}
