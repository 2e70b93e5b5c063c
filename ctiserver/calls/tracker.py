"""The call tracker: typed AMI events in, Channel → Leg → Call out, domain events returned (sans-I/O).

``Tracker.feed(event)`` updates the model and returns the ``DomainEvent``s of that step; a thin component
(``calls/component.py``) publishes them and persists finished calls. Legs are grouped into calls by
``Linkedid``; a channel whose linkedid changes moves to the new call. Every leg follows the explicit
machine of ``leg_state.py``; events that arrive out of order or twice are absorbed (counted in
``anomalies``) rather than corrupting a leg. ``resync(channels)`` reconciles with a CoreShowChannels list
after a reconnect and closes legs that vanished with ``end_reason = "vanished"``; a PBX restart
(``Shutdown``, or ``FullyBooted`` with a lower uptime) closes every open leg
(``pbx_shutdown``/``pbx_restart``).

Handlers live in ``channel_events.py``, ``pbx_events.py`` and ``queue_events.py``; facts from the engine's
own ACD/IVR (Stasis calls) come in through the methods of ``facts.EngineFacts``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ctiserver.calls import channel_events, hangups, pbx_events, queue_events
from ctiserver.calls.bridges import Bridges
from ctiserver.calls.call_state import CallState
from ctiserver.calls.checkpoints import Checkpoints
from ctiserver.calls.early import EarlyFacts
from ctiserver.calls.emitter import Emitter
from ctiserver.calls.facts import EngineFacts
from ctiserver.calls.leg_state import CHANNEL_STATES, LegState
from ctiserver.calls.model import Call, Leg, Role
from ctiserver.calls.restore import checkpoint_of
from ctiserver.calls.text import clean as _clean
from ctiserver.calls.text import hms as _hms
from ctiserver.clock import Clock, SystemClock
from ctiserver.events.envelope import DomainEvent
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.messages import AmiEvent

log = get_logger(__name__)

Handler = Callable[["Tracker", AmiEvent, float], None]


class Tracker(EngineFacts):
    def __init__(self, clock: Clock | None = None, *, keep_finished: int = 10_000) -> None:
        self.clock = clock or SystemClock()
        self.agent_ids: dict[str, str] = {}  # app_queue member interface (lower case) → agent id: name_agents
        self.calls: dict[str, Call] = {}  # live calls by call id
        self.legs: dict[str, Leg] = {}  # live legs by uniqueid
        self.leg_call: dict[str, str] = {}  # uniqueid → call id
        self.finished: OrderedDict[str, Call] = OrderedDict()
        self.keep_finished = keep_finished
        self.anomalies: dict[str, int] = {}
        self.linkedid_changes: list[dict[str, Any]] = []  # {uniqueid, channel, from, to, at}
        self.events_seen = 0
        self._ems = Emitter()
        self.early: EarlyFacts[Call] = EarlyFacts()  # engine facts that came (over ARI) before the call (over AMI)
        self._uptime: float | None = None
        self._uptime_at: float | None = None
        self.bridges = Bridges()  # who is in which bridge: the two-party peer of ``ast_set_hangupsource``
        self.cel = hangups.CelHangups()  # CEL on the link, and the legs whose end waits for their CEL HANGUP
        self.checkpoints = Checkpoints()  # calls an earlier run left in progress (``calls/checkpoints.py``)
        self._seen_at: dict[str, float] = {}  # a brought-back leg → when the earlier run last knew it alive

    def name_agents(self, ids: Mapping[str, str]) -> None:
        """app_queue members by device → the agent id configured for it (``acd.agents[]``), so that their
        calls name the same agent as ``agent.state``, the API and the KPIs, whatever ``MemberName`` queues.conf
        or ``QueueAdd`` gave it (a member with no configured agent keeps its ``MemberName``)."""
        self.agent_ids.update((k.lower(), v) for k, v in ids.items())
        for call in self.calls.values():  # named by their device before (e.g. answered_while_away at start)
            for seg in call.queues:
                seg.agent = self.agent_ids.get((seg.agent or "").lower(), seg.agent)
            for leg in call.legs.values():
                leg.agent = self.agent_ids.get((leg.agent or "").lower(), leg.agent)

    # ---------------------------------------------------------------- entry points
    def feed(self, event: AmiEvent) -> list[DomainEvent]:
        self.events_seen += 1
        handler = HANDLERS.get(event.name)
        if handler is not None:
            ts = event.get("Timestamp")
            try:
                at = float(ts) if ts else self.clock.now()
            except ValueError:
                self.anomaly("bad_timestamp")
                at = self.clock.now()
            if self.cel.held:
                hangups.expire(self, at)
            try:
                handler(self, event, at)
            except Exception:  # one malformed event must not stop the tracking of every other call
                self.anomaly(f"error:{event.name}")
                log.exception("tracker: event not applied", extra={"event": event.name})
        return self._ems.take() if self._ems.out else []

    def feed_all(self, events: Iterable[AmiEvent]) -> list[DomainEvent]:
        out: list[DomainEvent] = []
        for ev in events:
            out.extend(self.feed(ev))
        return out

    def release_due(self, now: float | None = None) -> list[DomainEvent]:
        """End the legs held too long for their CEL ``HANGUP`` (``calls/hangups.py``); their events."""
        hangups.release_due(self, self.clock.now() if now is None else now)
        return self._ems.take() if self._ems.out else []

    def release_held(self) -> list[DomainEvent]:
        """The link ended (end of a capture, reconnect, shutdown): end every held leg now; their events."""
        hangups.release_all(self)
        return self._ems.take() if self._ems.out else []

    def call_of(self, key: str) -> Call | None:
        """A live or recently finished call by call id, or by the uniqueid of one of its legs."""
        call_id = self.leg_call.get(key, key)
        return self.calls.get(call_id) or self.finished.get(call_id)

    def all_calls(self) -> list[Call]:
        return [*self.finished.values(), *self.calls.values()]

    # ---------------------------------------------------------------- helpers used by handlers
    def anomaly(self, kind: str) -> None:
        self.anomalies[kind] = self.anomalies.get(kind, 0) + 1

    def emit(self, type_: str, subject: str, data: dict[str, Any], at: float) -> None:
        self._ems.emit(type_, subject, data, at)

    def leg_for(self, ev: AmiEvent, at: float, uid_key: str = "Uniqueid", prefix: str = "") -> Leg | None:
        uid = ev.get(uid_key)
        if not uid:
            return None
        leg = self.legs.get(uid)
        if leg is None:
            if uid in self.leg_call:  # already ended: a late event
                return None
            # first sight of a channel that existed before we connected: adopt it
            chan = ev.get(prefix + "Channel")
            if not chan:
                return None
            self.anomaly("adopted_leg")
            leg = self._new_leg(
                uid, ev.get(prefix + "Linkedid") or uid, chan, ev.get(prefix + "ChannelState"), at, ev, prefix
            )
        else:
            linked = ev.get(prefix + "Linkedid")
            if linked and linked != leg.linkedid:
                self._relink(leg, linked, at)
        return leg

    def call_for_leg(self, leg: Leg) -> Call:
        return self.calls[self.leg_call[leg.uniqueid]]

    def _new_leg(
        self,
        uid: str,
        linkedid: str,
        channel: str,
        state: str | None,
        at: float,
        ev: AmiEvent,
        prefix: str = "",
    ) -> Leg:
        if self.checkpoints:
            back = self._bring_back(uid, linkedid, at)
            if back is not None:
                return back
        call = self.calls.get(linkedid)
        new_call = call is None
        if call is None:
            call = Call(call_id=linkedid, started=at)
            self.calls[linkedid] = call
            self.finished.pop(linkedid, None)
        direction = "in" if state in ("4", "6") and not channel.startswith("Local/") else "out"
        if channel.startswith("Local/"):
            role = Role.LOCAL
        elif not call.party_legs():
            role = Role.CALLER if direction == "in" else Role.OUTBOUND
        elif call.pending_transfer:
            role = Role.TRANSFER_TARGET
            call.pending_transfer = False
        else:
            role = Role.AGENT
        leg = Leg(
            uniqueid=uid,
            linkedid=linkedid,
            channel=channel,
            role=role,
            direction=direction,
            created=at,
            caller_num=_clean(ev.get(prefix + "CallerIDNum")),
            caller_name=_clean(ev.get(prefix + "CallerIDName")),
            callee_num=_clean(ev.get(prefix + "Exten")),
        )
        target = CHANNEL_STATES.get(state or "0", LegState.NEW)
        self.legs[uid] = leg
        self.leg_call[uid] = call.call_id
        call.legs[uid] = leg
        if new_call:
            self.emit(
                "call.created",
                call.call_id,
                {
                    "call_id": call.call_id,
                    "channel": channel,
                    "caller_num": leg.caller_num,
                    "direction": direction,
                },
                at,
            )
        self.emit("leg.created", call.call_id, {"call_id": call.call_id, **leg.snapshot()}, at)
        self.set_leg_state(leg, target, at)
        if self.early:
            self.apply_early(uid, call)
            if new_call and linkedid != uid:
                self.apply_early(linkedid, call)
        return leg

    def checkpoint(self, call: Call) -> dict[str, Any]:
        """What the next run needs to take ``call`` back (``calls/checkpoints.py``)."""
        snap = checkpoint_of(call)
        if self.cel.held:
            snap["hung_up"] = hangups.held_of(self, call)
        return snap

    def _bring_back(self, uid: str, linkedid: str, at: float) -> Leg | None:
        """The checkpointed call a channel seen for the first time belongs to, back in the tracker (its leg for
        ``uid``, or None: not ours, or a leg it did not have yet — created as usual, in the call now back)."""
        found = self.checkpoints.take(uid, linkedid)
        if found is None or not self._reinstate(*found):
            return None
        call = found[0]
        self.emit("call.updated", call.call_id, {"call_id": call.call_id, "change": "restored"}, at)
        if self.early:  # engine facts reported (over ARI) before AMI showed the call
            self.apply_early(call.call_id, call)
            if uid != call.call_id:
                self.apply_early(uid, call)
        return self.legs.get(uid)

    def _reinstate(self, call: Call, seen: float, hung_up: dict[str, Any]) -> bool:
        if call.call_id in self.calls:  # adopted meanwhile: keep the live one
            self.anomaly("checkpoint_after_adoption")
            return False
        self.anomaly("restored_from_checkpoint")
        self.calls[call.call_id] = call
        self.finished.pop(call.call_id, None)
        for leg in call.legs.values():
            self.leg_call[leg.uniqueid] = call.call_id
            if leg.ended is None:
                self.legs[leg.uniqueid] = leg
                self._seen_at[leg.uniqueid] = seen
        if hung_up:
            hangups.hold_again(self, call, hung_up)
        return True

    def _relink(self, leg: Leg, linkedid: str, at: float) -> None:
        old = self.calls.get(self.leg_call[leg.uniqueid])
        dest = self.calls.get(linkedid)
        if dest is None:
            dest = Call(call_id=linkedid, started=at)
            self.calls[linkedid] = dest
            self.emit("call.created", linkedid, {"call_id": linkedid, "channel": leg.channel}, at)
        if old is not None:
            old.legs.pop(leg.uniqueid, None)
            if old.call_id not in dest.merged_from:
                dest.merged_from.append(old.call_id)
            for key, value in old.data.items():
                dest.data.setdefault(key, value)
        self.linkedid_changes.append(
            {"uniqueid": leg.uniqueid, "channel": leg.channel, "from": leg.linkedid, "to": linkedid, "at": at}
        )
        leg.linkedid = linkedid
        if leg.role is Role.OUTBOUND and dest.party_legs():
            leg.role = Role.AGENT  # placed without a caller (ARI originate, no originator), then joined to a call
        dest.legs[leg.uniqueid] = leg
        self.leg_call[leg.uniqueid] = linkedid
        self.emit(
            "call.updated",
            linkedid,
            {
                "call_id": linkedid,
                "change": "linkedid",
                "leg": leg.uniqueid,
                "from": old.call_id if old else None,
            },
            at,
        )
        if old is not None and old.call_id in self.calls:
            if not old.legs:
                del self.calls[old.call_id]
            elif all(x.state is LegState.ENDED for x in old.legs.values()):
                self.end_call(old, at, "merged")

    def set_leg_state(self, leg: Leg, target: LegState, at: float) -> None:
        if leg.state is target or (target is LegState.UP and leg.state is LegState.HELD):
            return
        if not leg.fsm.can(target):
            self.anomaly(f"leg_{leg.state.value}_to_{target.value}")
            return
        leg.fsm.move(target)
        if target is LegState.RINGING and leg.ringing is None:
            leg.ringing = at
        elif target is LegState.UP and leg.answered is None:
            leg.answered = at
            call = self.call_for_leg(leg)
            if call.answered is None and leg.role is not Role.LOCAL:
                call.answered = at
                self.emit(
                    "call.answered",
                    call.call_id,
                    {"call_id": call.call_id, "leg": leg.uniqueid, "channel": leg.channel},
                    at,
                )

    def end_leg(
        self, leg: Leg, at: float, reason: str, cause: int | None = None, cause_txt: str = ""
    ) -> None:
        if leg.state is LegState.ENDED:
            return
        call = self.call_for_leg(leg)
        leg.fsm.move(LegState.ENDED)
        leg.ended = at
        leg.end_reason = reason
        if cause is not None:
            leg.hangup_cause = cause
            leg.hangup_cause_txt = cause_txt
        for span in leg.hold:
            if span.end is None:
                span.end = at
        if leg.hangup_source is None:
            leg.hangup_source = ""
        del self.legs[leg.uniqueid]
        self.cel.forget(leg.uniqueid)
        if leg.bridges:
            self.bridges.forget(leg.uniqueid, leg.bridges)
        self.emit("leg.ended", call.call_id, {"call_id": call.call_id, **leg.snapshot()}, at)
        if leg.role in (Role.CALLER, Role.OUTBOUND):
            queue_events.finish_open_segments(self, call, at)
        if all(x.state is LegState.ENDED for x in call.legs.values()):
            self.end_call(call, at, reason)

    def end_call(self, call: Call, at: float, reason: str) -> None:
        queue_events.finish_open_segments(self, call, at)
        call.fsm.move(CallState.ENDED)
        call.ended = at
        call.end_reason = reason
        self.calls.pop(call.call_id, None)
        self.finished[call.call_id] = call
        while len(self.finished) > self.keep_finished:
            self._forget_oldest()
        self.emit("call.ended", call.call_id, call.snapshot(), at)

    def forget_finished(self, before: float) -> int:
        """Drop the finished calls that started before ``before`` (``database.personal_data_days``: the API's
        recent calls must not outlive the stored ones' personal data); how many."""
        n = 0
        while self.finished and next(iter(self.finished.values())).started < before:
            self._forget_oldest()
            n += 1
        return n

    def forget_calls(self, call_ids: Iterable[str]) -> int:
        """Drop these finished calls (a person's erasure: ``ctiserver/privacy/``); how many were kept."""
        n = 0
        for call_id in call_ids:
            old = self.finished.pop(call_id, None)
            if old is not None:
                n += 1
                self._unlink(call_id, old)
        return n

    def _forget_oldest(self) -> None:
        old_id, old = self.finished.popitem(last=False)
        self._unlink(old_id, old)

    def _unlink(self, call_id: str, call: Call) -> None:
        for uid in call.legs:
            if self.leg_call.get(uid) == call_id:
                del self.leg_call[uid]

    def set_call_state(self, call: Call, target: CallState, at: float) -> None:
        if call.state is target:
            return
        if not call.fsm.can(target):
            self.anomaly(f"call_{call.state.value}_to_{target.value}")
            return
        call.fsm.move(target)
        if target is CallState.CONNECTED and call.connected is None:
            call.connected = at
        self.emit("call.updated", call.call_id, {"call_id": call.call_id, "state": target.value}, at)

    def close_all(self, at: float, reason: str) -> None:
        hangups.release_all(self)
        for leg in list(self.legs.values()):
            self.end_leg(leg, at, reason)

    # ---------------------------------------------------------------- resync
    def resync(self, channels: Iterable[AmiEvent], at: float | None = None) -> list[DomainEvent]:
        """Reconcile with a CoreShowChannels answer: adopt unknown channels, close legs that are gone."""
        now = self.clock.now() if at is None else at
        hangups.release_all(self)  # hung up before the link dropped: their CEL record will not come
        seen: set[str] = set()
        for ev in channels:
            uid = ev.get("Uniqueid")
            if not uid:
                continue
            seen.add(uid)
            if uid in self.legs:
                continue
            back = self._bring_back(uid, ev.get("Linkedid") or uid, now) if self.checkpoints else None
            if back is not None:  # its state now
                self.set_leg_state(back, CHANNEL_STATES.get(ev.get("ChannelState") or "0", back.state), now)
            else:
                duration = _hms(ev.get("Duration"))
                back = self._new_leg(
                    uid,
                    ev.get("Linkedid") or uid,
                    ev.get("Channel") or uid,
                    ev.get("ChannelState"),
                    now - duration,
                    ev,
                )
                self.anomaly("adopted_on_resync")
            if back.bridges:
                self.bridges.forget(uid, back.bridges)
            back.bridges = {ev["BridgeId"]} if ev.get("BridgeId") else set()  # the one it is in now
            for bridge_id in back.bridges:
                self.bridges.enter(bridge_id, uid, None, None)
        for call in list(self.calls.values()):
            queue_events.answered_while_away(self, call, now)
        for call_id in self.checkpoints.keys():  # none of its channels is left: it ended while we were away
            found = self.checkpoints.take(call_id)
            if found is not None and self._reinstate(*found):
                call, ended, _ = found
                if all(leg.ended is not None for leg in call.legs.values()):
                    self.end_call(call, ended, "vanished")
        for uid, leg in list(self.legs.items()):
            # gone: a brought-back leg that had hung up ends as it did, else when the earlier run last knew it alive
            if uid not in seen and not hangups.release(self, uid):
                self.end_leg(leg, self._seen_at.get(uid, now), "vanished")
        self._seen_at.clear()
        return self._ems.take()


HANDLERS: dict[str, Handler] = {
    **channel_events.HANDLERS,
    **pbx_events.HANDLERS,
    **queue_events.HANDLERS,
    **hangups.HANDLERS,
}
