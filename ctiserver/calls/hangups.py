"""Each leg's hang-up details as Asterisk's CEL ``HANGUP`` record states them: ``hangupsource`` and ``dialstatus``.

**With CEL on the link** (``cel.conf`` + ``cel_manager``: AMI ``Event: CEL``), the ``HANGUP`` record's ``Extra``
(``{"hangupcause","hangupsource","dialstatus"}``, main/cel.c ``cel_channel_state_change``) is the answer. It is
not ordered with the AMI ``Hangup`` of its channel: both come from stasis, through different subscribers (the
manager's channel router, CEL's own router), so the CEL record may trail the ``Hangup`` — 164 of 480 legs in
trace 13, by up to 40 events / 2.4 ms, and for 92 calls after the ``Hangup`` of the call's last leg.

*Choice: hold the leg's end for its CEL record.* A leg with CEL events (``CHAN_START``…), or created after a CEL
``HANGUP`` came on the link (the daemon's default AMI filters pass no other CEL record), whose ``HANGUP`` record
has not come yet is not ended at its AMI ``Hangup``: the hang-up (time, cause) is kept and the leg ends — with
that time and cause — when its CEL ``HANGUP`` arrives, or when ``CHAN_END`` arrives without it (``cel.conf
events=`` does not track ``HANGUP``: no leg is held afterwards), or after ``HOLD_SECONDS`` (event time of later
events, or the local clock through ``release_due``, which ``CallService.release_loop`` calls), or when the link
ends (``release_all``: end of a replayed capture, resync after a reconnect, shutdown, restart). So ``leg.ended``
and ``call.ended`` are published and stored once, right, a few milliseconds late — rather than published wrong and
corrected (KPIs, the CRM and the store take ``call.ended`` as final). A CEL ``HANGUP`` that still comes after its
leg ended (held too long, or the leg had no CEL event before its ``Hangup``) updates the ended leg: a finished
call is re-published as ``call.updated`` (``change: "hangup"``, the whole snapshot) and re-stored.

**Without CEL** the tracker follows the same rules Asterisk applies to the channel's ``hangupsource``
(``ast_set_hangupsource``, main/channel.c: set only while empty, on the channel and on its two-party bridge peer,
``bridges.py``): a channel driver that sees the far end hang up (chan_pjsip ``chan_pjsip_session_end``: BYE,
CANCEL, a failure answer) names the channel — on AMI a ``HangupRequest`` that is not soft, of a channel that is
not ``Local/`` (core_unreal queues the hang-up of a Local half without a source); the ``Hangup()`` application
says ``dialplan/builtin`` (pbx.c ``pbx_builtin_hangup``; AMI ``Newexten`` ``Application: Hangup``); a soft
hang-up (AMI ``Hangup``, ARI ``DELETE``, a transfer, app_queue/Dial cancelling the others) names nobody. The dial
status is CEL's ``save_dialstatus``: of the ``DialEnd`` events where the channel dials, the first valid status is
kept unless a later one is ``ANSWER``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctiserver.calls.call_state import CallState
from ctiserver.calls.model import Call, Leg

if TYPE_CHECKING:
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.messages import AmiEvent

HOLD_SECONDS = 2.0
# main/cel.c is_valid_dialstatus
VALID_DIALSTATUS = frozenset(
    {"CHANUNAVAIL", "CONGESTION", "NOANSWER", "BUSY", "ANSWER", "CANCEL", "DONTCALL", "TORTURE", "INVALIDARGS"}
)


@dataclass(slots=True)
class _Held:
    leg: Leg
    at: float  # the AMI Hangup's time
    cause: int | None
    cause_txt: str
    since: float  # local clock when held


class CelHangups:
    """Per link: the live legs CEL reported on (uniqueid → its ``HANGUP`` came) and the legs held for it."""

    __slots__ = ("hangups", "held", "seen", "untracked", "window")

    def __init__(self, window: float = HOLD_SECONDS) -> None:
        self.seen: dict[str, bool] = {}
        self.held: OrderedDict[str, _Held] = OrderedDict()
        self.untracked = False  # a CHAN_END came without its HANGUP: cel.conf does not track HANGUP
        # a CEL HANGUP came on this link: every leg will have one. The daemon's default AMI filters let no other CEL
        # record through (config.AmiConfig.event_filters), so the legs are not known from their CHAN_START there
        self.hangups = False
        self.window = window

    def born(self, uid: str) -> None:
        """A channel created while CEL ``HANGUP`` records come on this link: it will have one too."""
        if self.hangups:
            self.seen.setdefault(uid, False)

    def expects(self, uid: str) -> bool:
        """The leg's CEL ``HANGUP`` is still to come (CEL reported on the channel, or it was born under CEL)."""
        return not self.untracked and self.seen.get(uid) is False

    def forget(self, uid: str) -> None:
        self.seen.pop(uid, None)
        self.held.pop(uid, None)

    def final(self, leg: Leg) -> bool:
        """Asterisk's value is settled: the channel hung up (or CEL told it)."""
        return leg.ended is not None or leg.uniqueid in self.held or self.seen.get(leg.uniqueid) is True


# ------------------------------------------------------------------ the rules Asterisk follows (no CEL needed)
def set_source(t: Tracker, leg: Leg, source: str) -> None:
    """``ast_set_hangupsource(chan, source, 0)``: on the channel and on its two-party bridge peer, if empty."""
    peer_uid = t.bridges.peer(leg.uniqueid, leg.bridges) if leg.bridges else None
    peer = t.legs.get(peer_uid) if peer_uid else None
    for x in (leg, peer):
        if x is not None and not x.hangup_source and not t.cel.final(x):
            x.hangup_source = source


def hangup_request(t: Tracker, leg: Leg) -> None:
    """A (not soft) ``HangupRequest``: the channel driver saw the far end hang up."""
    if not leg.channel.startswith("Local/"):
        set_source(t, leg, leg.channel)


def dial_end(leg: Leg, status: str) -> None:
    """cel.c ``save_dialstatus`` on the dialling channel: the first failure stays unless an ANSWER follows."""
    status = status.upper()
    if status in VALID_DIALSTATUS and (not leg.dialstatus or (status == "ANSWER" and leg.dialstatus != "ANSWER")):
        leg.dialstatus = status


def _newexten(t: Tracker, ev: AmiEvent, at: float) -> None:
    if ev.get("Application") == "Hangup":
        leg = t.leg_for(ev, at)
        if leg is not None:
            set_source(t, leg, "dialplan/builtin")


# ------------------------------------------------------------------ CEL and the hold
def hangup(t: Tracker, leg: Leg, at: float, cause: int | None, cause_txt: str) -> None:
    """The AMI ``Hangup``: end the leg now, or hold it for its CEL ``HANGUP``."""
    c = t.cel
    uid = leg.uniqueid
    if uid in c.held:
        t.anomaly("duplicate_hangup")
        return
    if c.expects(uid):
        c.held[uid] = _Held(leg, at, cause, cause_txt, t.clock.now())
        return
    t.end_leg(leg, at, "hangup", cause, cause_txt)


def held_of(t: Tracker, call: Call) -> dict[str, list[Any]]:
    """The legs of ``call`` held for their CEL record, for its checkpoint: uniqueid → [at, cause, cause_txt]."""
    return {uid: [h.at, h.cause, h.cause_txt] for uid, h in t.cel.held.items() if uid in call.legs}


def hold_again(t: Tracker, call: Call, hung_up: Mapping[str, Any]) -> None:
    """A call back from its checkpoint: its legs that had hung up wait again for their CEL record (or the resync)."""
    for uid, (at, cause, cause_txt) in hung_up.items():
        leg = call.legs.get(uid)
        if leg is not None and leg.ended is None:
            t.cel.seen[uid] = False
            t.cel.held[uid] = _Held(
                leg, float(at), None if cause is None else int(cause), str(cause_txt), t.clock.now()
            )


def _extra(ev: AmiEvent) -> dict[str, Any] | None:
    try:
        extra = json.loads(ev.get("Extra") or "{}")
    except ValueError:
        return None
    return extra if isinstance(extra, dict) else None


def _apply(leg: Leg, extra: dict[str, Any]) -> bool:
    before = (leg.hangup_source, leg.dialstatus)
    leg.hangup_source = str(extra.get("hangupsource") or "")
    leg.dialstatus = str(extra.get("dialstatus") or "")
    return before != (leg.hangup_source, leg.dialstatus)


def on_cel(t: Tracker, ev: AmiEvent, at: float) -> None:
    uid = ev.get("UniqueID") or ""
    name = ev.get("EventName")
    c = t.cel
    if name == "HANGUP":
        c.untracked = False
        c.hangups = True
        extra = _extra(ev)
        leg = t.legs.get(uid)
        if extra is None:
            t.anomaly("cel_hangup_bad_extra")
        elif leg is None:
            _late(t, uid, extra)
            return
        else:
            _apply(leg, extra)
        c.seen[uid] = True
        if leg is not None:
            _release(t, uid)
    elif uid in t.legs:
        if name in ("CHAN_END", "LINKEDID_END"):  # cel.c reports HANGUP before these: none will come now
            if c.seen.get(uid) is False:  # CEL told of the channel but not of its HANGUP: not tracked
                c.untracked = True
            c.seen[uid] = True  # (None: reported before we followed the channel — a restart)
            _release(t, uid)
        else:
            c.seen.setdefault(uid, False)


def _late(t: Tracker, uid: str, extra: dict[str, Any]) -> None:
    """A CEL ``HANGUP`` for a leg that already ended: correct it (and re-publish a finished call)."""
    call = t.call_of(uid)
    leg = call.legs.get(uid) if call is not None else None
    if call is None or leg is None or leg.ended is None or not _apply(leg, extra):
        return
    t.anomaly("cel_hangup_after_end")
    if call.state is CallState.ENDED:
        t.updated(
            call,
            {"change": "hangup", "leg": uid, "hangup_source": leg.hangup_source, "dialstatus": leg.dialstatus},
        )


def _release(t: Tracker, uid: str) -> None:
    held = t.cel.held.pop(uid, None)
    if held is not None and held.leg.ended is None:
        t.end_leg(held.leg, held.at, "hangup", held.cause, held.cause_txt)


def expire(t: Tracker, at: float) -> None:
    """End the held legs whose CEL ``HANGUP`` is overdue by the time of the event being fed."""
    _release_overdue(t, lambda h: at - h.at)


def release_due(t: Tracker, now: float) -> None:
    """Same, on the local clock (a quiet link feeds no event that would end them)."""
    _release_overdue(t, lambda h: now - h.since)


def _release_overdue(t: Tracker, waited: Callable[[Any], float]) -> None:
    held = t.cel.held
    while held:
        uid, h = next(iter(held.items()))
        if waited(h) <= t.cel.window:
            return
        t.anomaly("cel_hangup_missing")
        _release(t, uid)


def release_all(t: Tracker) -> None:
    """The link ended: no CEL record will come for the held legs."""
    for uid in list(t.cel.held):
        _release(t, uid)


def release(t: Tracker, uid: str) -> bool:
    """End ``uid`` now if it is held (it hung up); whether it was."""
    if uid not in t.cel.held:
        return False
    _release(t, uid)
    return True


HANDLERS = {"CEL": on_cel, "Newexten": _newexten}
