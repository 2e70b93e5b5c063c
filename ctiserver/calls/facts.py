"""Facts the engine's own ACD/IVR/recording add to a tracked call (Stasis calls have no app_queue events)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctiserver.calls.call_state import CallState
from ctiserver.calls.early import EarlyFacts
from ctiserver.calls.emitter import Emitter
from ctiserver.calls.model import Call, Leg, QueueSegment
from ctiserver.clock import Clock
from ctiserver.events.envelope import DomainEvent

# ACD outcomes → segment outcomes (KPIs count answered, abandoned, and everything else as "left unanswered")
ACD_OUTCOMES = {"answered": "answered", "abandoned": "abandoned", "timeout": "timeout"}


class NotTrackedYet(KeyError):
    """The tracker has not seen the call (yet): the fact is held and applied when AMI shows the call."""


class EngineFacts:
    clock: Clock
    legs: dict[str, Leg]
    _ems: Emitter
    early: EarlyFacts[Call]
    late_fact_sink: Callable[[dict[str, Any]], None] | None = None

    def call_of(self, key: str) -> Call | None:
        raise NotImplementedError

    def emit(self, type_: str, subject: str, data: dict[str, Any], at: float) -> None:
        self._ems.emit(type_, subject, data, at)

    def updated(self, call: Call, data: dict[str, Any]) -> None:
        """``call.updated``; on a call that already ended it carries the whole snapshot (``call``) so the
        store rewrites the row (late wrap-up, disposition...)."""
        payload = {"call_id": call.call_id, **data}
        if call.state is CallState.ENDED:
            snapshot = call.snapshot()
            payload["call"] = snapshot
            if self.late_fact_sink is not None:
                self.late_fact_sink({"kind": "call", "data": snapshot})
        self.emit("call.updated", call.call_id, payload, self.clock.now())

    def _fact_call(self, call_id: str) -> Call:
        call = self.call_of(call_id)
        if call is None:
            raise KeyError(f"unknown call {call_id!r}")
        return call

    def _held_call(self, call_id: str, apply: Callable[[Call], None]) -> Call:
        """The call, or hold ``apply`` until the call appears and raise ``NotTrackedYet`` (a ``KeyError``)."""
        call = self.call_of(call_id)
        if call is None:
            self.early.hold(call_id, apply, self.clock.now())
            raise NotTrackedYet(f"call {call_id!r} not tracked yet; the fact is held")
        return call

    def apply_early(self, key: str, call: Call) -> None:
        """Apply the facts held for ``key`` (a new leg's uniqueid or a new call's id) to ``call``."""
        for apply in self.early.take(key):
            apply(call)

    def record_ivr_step(
        self, call_id: str, node: str, result: str | None = None, at: float | None = None, **extra: Any
    ) -> list[DomainEvent]:
        when = self.clock.now() if at is None else at
        step = {"node": node, "result": result, "at": when, **extra}
        # held: only filed on the call; the caller publishes this ``ivr.step`` itself on NotTrackedYet
        call = self._held_call(call_id, lambda c: c.ivr_path.append(step))
        call.ivr_path.append(step)
        self.emit("ivr.step", call.call_id, {"call_id": call.call_id, **step}, when)
        return self._ems.take()

    def set_self_service(self, call_id: str, outcome: str | None) -> list[DomainEvent]:
        call = self._held_call(call_id, lambda c: self._set(c, "self_service", outcome))
        self._set(call, "self_service", outcome)
        return self._ems.take()

    def set_disposition(self, call_id: str, disposition: str) -> list[DomainEvent]:
        return self._update(call_id, "disposition", disposition)

    def add_wrapup(self, call_id: str, seconds: float, agent: str | None = None) -> list[DomainEvent]:
        """``agent``'s wrap-up after ``call_id`` (``calls/wrapups.py``); the ``call.updated`` says what was
        ``added`` and by whom, and the total."""
        call = self._fact_call(call_id)
        added = max(0.0, seconds)
        call.wrapup_seconds += added
        change = {"change": "wrapup_seconds", "wrapup_seconds": call.wrapup_seconds, "added": added}
        self.updated(call, change | {"agent": agent})
        return self._ems.take()

    def attach_data(self, call_id: str, key: str, value: str) -> list[DomainEvent]:
        call = self._held_call(call_id, lambda c: self._attach(c, key, value))
        self._attach(call, key, value)
        return self._ems.take()

    def _attach(self, call: Call, key: str, value: str) -> None:
        call.data[key] = value
        self.updated(call, {"change": "data", "key": key, "value": value})

    def add_recording(self, key: str, recording_id: str) -> list[DomainEvent]:
        """``key`` is a leg uniqueid, or a call id (the recording is filed on the call's first leg)."""
        leg = self.legs.get(key)
        call = self._fact_call(key)
        target = leg or call.first_leg()
        if target is not None and recording_id not in target.recordings:
            target.recordings.append(recording_id)
        self.updated(call, {"change": "recording", "recording_id": recording_id})
        return self._ems.take()

    def _update(self, call_id: str, attr: str, value: Any) -> list[DomainEvent]:
        self._set(self._fact_call(call_id), attr, value)
        return self._ems.take()

    def _set(self, call: Call, attr: str, value: Any) -> None:
        setattr(call, attr, value)
        self.updated(call, {"change": attr, attr: value})

    # queue segments of the engine's own ACD (Stasis calls: no app_queue events). The ACD publishes its own
    # queue.entered/queue.left; these methods only record the segment on the call, they emit nothing.
    def queue_entered(
        self, call_id: str, queue: str, position: int = 0, at: float | None = None, *, outbound: bool = False
    ) -> None:
        when = self.clock.now() if at is None else at
        call = self._held_call(call_id, lambda c: self._queue_entered(c, queue, position, when, outbound))
        self._queue_entered(call, queue, position, when, outbound)

    def _queue_entered(self, call: Call, queue: str, position: int, when: float, outbound: bool) -> None:
        call_id = call.call_id
        stay = next((q for q in call.queues if q.restored and q.queue == queue and q.outcome is None), None)
        if stay is not None:
            stay.acd = True  # the caller waited there before the daemon restarted: the same stay goes on
            return
        first = call.first_leg()
        call.queues.append(
            QueueSegment(
                queue=queue,
                caller_uniqueid=first.uniqueid if first else call_id,
                entered=when,
                position=position,
                acd=True,
                outbound=outbound,
            )
        )

    def queue_left(
        self,
        call_id: str,
        queue: str,
        outcome: str,
        *,
        waited: float | None = None,
        agent: str | None = None,
        at: float | None = None,
        outbound: bool = False,
    ) -> None:
        when = self.clock.now() if at is None else at
        args = (queue, outcome, waited, agent, when, outbound)
        call = self._held_call(call_id, lambda c: self._queue_left(c, *args))
        self._queue_left(call, *args)

    def _queue_left(
        self,
        call: Call,
        queue: str,
        outcome: str,
        waited: float | None,
        agent: str | None,
        when: float,
        outbound: bool,
    ) -> None:
        call_id = call.call_id
        # a segment closed by the caller's hang-up (AMI) before the ACD's verdict arrived is that same stay
        seg = next((q for q in reversed(call.queues) if q.queue == queue and q.outcome in (None, "closed")), None)
        if seg is None:  # we missed the entry: rebuild it from the wait the ACD measured
            entered = when - (waited or 0.0)
            seg = QueueSegment(queue=queue, caller_uniqueid=call_id, entered=entered, acd=True, outbound=outbound)
            call.queues.append(seg)
        seg.left = when
        seg.outcome = ACD_OUTCOMES.get(outcome, "transferred" if outcome in ("transferred", "overflow") else "timeout")
        if seg.outcome == "answered":
            seg.answered = when
            seg.agent = agent
        if waited is not None and not seg.restored:  # the ACD's measure wins over event timestamps (but
            seg.entered = when - waited  # not over a stay that began before a restart: it counts from there)
        if call.state is CallState.ENDED and self.late_fact_sink is not None:
            self.late_fact_sink({"kind": "call", "data": call.snapshot()})
