"""PBX-level AMI events (CEL: ``hangups.py``): transfers, recordings, attached data, shutdown/restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.calls import queue_events
from ctiserver.calls.call_state import CallState
from ctiserver.calls.model import Role, Transfer

if TYPE_CHECKING:
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.messages import AmiEvent


def _blindtransfer(t: Tracker, ev: AmiEvent, at: float) -> None:
    uid = ev.get("TransfereeUniqueid") or ev.get("TransfererUniqueid") or ""
    call = t.call_of(uid)
    if call is None or call.state is CallState.ENDED:
        return
    ok = (ev.get("Result") or "") == "Success"
    target = f"{ev.get('Extension') or ''}@{ev.get('Context') or ''}"
    call.transfers.append(
        Transfer(
            "blind",
            at,
            ev.get("TransfererUniqueid"),
            ev.get("TransfereeUniqueid"),
            target,
            ev.get("Result") or "",
        )
    )
    if ok:
        call.pending_transfer = True
        queue_events.mark_transferred(call, "blind")
    t.emit("call.transferred", call.call_id, {"call_id": call.call_id, **call.transfers[-1].snapshot()}, at)


def _attendedtransfer(t: Tracker, ev: AmiEvent, at: float) -> None:
    uid = ev.get("OrigTransfererUniqueid") or ev.get("TransfereeUniqueid") or ""
    call = t.call_of(uid)
    if call is None or call.state is CallState.ENDED:
        return
    target_uid = ev.get("TransferTargetUniqueid") or ev.get("SecondTransfererUniqueid")
    # DestType Threeway (the transferer's *3 during the consultation): the three stay together, the transferer
    # too; app_queue handle_attended_transfer() ignores it (no ATTENDEDTRANSFER, the stay ends as the call does)
    threeway = (ev.get("DestType") or "").lower() == "threeway"
    call.transfers.append(
        Transfer(
            "threeway" if threeway else "attended",
            at,
            ev.get("OrigTransfererUniqueid"),
            ev.get("TransfereeUniqueid"),
            target_uid,
            ev.get("Result") or "",
        )
    )
    if (ev.get("Result") or "") == "Success" and not threeway:
        queue_events.mark_transferred(call, "attended")
        target = t.legs.get(ev.get("TransferTargetUniqueid") or "")
        if target is not None and target.role is Role.AGENT:
            target.role = Role.TRANSFER_TARGET
    t.emit("call.transferred", call.call_id, {"call_id": call.call_id, **call.transfers[-1].snapshot()}, at)


def _mixmonitor(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is not None:
        leg.recordings.append(f"mixmonitor:{at:.6f}")


def _varset(t: Tracker, ev: AmiEvent, at: float) -> None:
    name = ev.get("Variable") or ""
    if name == "BRIDGEPEER":  # set by bridge.c on every member after a change: a comma list in a conference
        peer_of = t.legs.get(ev.get("Uniqueid") or "")
        if peer_of is not None and peer_of.bridges:
            t.bridges.bridge_peer(peer_of.uniqueid, peer_of.bridges, ev.get("Value") or "")
        return
    if not name.startswith("CTI_DATA_"):
        return
    leg = t.leg_for(ev, at)
    if leg is not None:
        t.call_for_leg(leg).data[name[9:].lower()] = ev.get("Value") or ""


def _shutdown(t: Tracker, ev: AmiEvent, at: float) -> None:
    t.close_all(at, "pbx_shutdown")


def _fullybooted(t: Tracker, ev: AmiEvent, at: float) -> None:
    try:
        uptime = float(ev.get("Uptime") or "")
    except ValueError:
        return
    if t._uptime is not None and t._uptime_at is not None and uptime + 2 < t._uptime + (at - t._uptime_at):
        t.close_all(at, "pbx_restart")
    t._uptime, t._uptime_at = uptime, at


HANDLERS = {
    "BlindTransfer": _blindtransfer,
    "AttendedTransfer": _attendedtransfer,
    "MixMonitorStart": _mixmonitor,
    "VarSet": _varset,
    "Shutdown": _shutdown,
    "FullyBooted": _fullybooted,
}
