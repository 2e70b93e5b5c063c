"""``CallService``: the thin I/O shell around the sans-I/O ``Tracker``.

AMI events go to ``tracker.feed`` synchronously (wire order); the domain events it returns are queued and a
pump publishes them on the bus, in order. ``leg.ended``/``call.ended`` snapshots are handed, in order, to the
store's ``DurableWriter`` (database, or the spool while it is down) by a second pump, so a slow database never
delays the bus. After every AMI login the service asks ``CoreShowChannels`` and lets the tracker close the
legs that vanished meanwhile. The engine's ACD/IVR report their facts through the same service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from ctiserver.calls.emitter import SOURCE
from ctiserver.calls.facts import NotTrackedYet
from ctiserver.calls.tracker import Tracker
from ctiserver.calls.wrapups import WrapUps
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.queue_left import queue_wait
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import live_channels
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.store.group import LINGER

log = get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, event: DomainEvent) -> DomainEvent: ...


class Writer(Protocol):
    async def write(self, facts: Sequence[dict[str, Any]]) -> bool: ...


class ActionSender(Protocol):
    async def action(
        self,
        name: str,
        headers: Any = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        check: bool = False,
    ) -> Any: ...


def facts_of(events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ev in events:
        if ev.type == "leg.ended":
            out.append({"kind": "leg", "data": dict(ev.data)})
        elif ev.type == "call.ended":
            out.append({"kind": "call", "data": dict(ev.data)})
    return out


class CallService:
    def __init__(self, tracker: Tracker, bus: Publisher | None = None, writer: Writer | None = None) -> None:
        self.tracker = tracker
        self.bus = bus
        self.writer = writer
        self._events: asyncio.Queue[list[DomainEvent]] = asyncio.Queue()
        self._facts: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self.published = 0
        self.persisted = 0
        self.resyncs = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self._pending = 0  # batches queued and not yet fully handled by their pump
        self.wrapups = WrapUps()
        self._changed: set[str] = set()  # live calls changed since their last checkpoint
        # late facts on ended calls (wrap-up, disposition...), whoever reported them: persist the snapshot
        tracker.late_fact_sink = self._late_fact

    def _late_fact(self, fact: dict[str, Any]) -> None:
        self._put_facts([fact])

    def _put_facts(self, facts: list[dict[str, Any]]) -> None:
        self.idle.clear()
        self._pending += 1
        self._facts.put_nowait(facts)

    def on_engine_event(self, event: DomainEvent) -> None:
        """The ACD's own ``queue.entered``/``queue.left`` (Stasis calls) become queue segments of the call;
        an agent leaving wrap-up (``agent.state``) adds the wrap-up to its call."""
        if event.source == SOURCE:
            return  # ours (app_queue, observed from AMI)
        data = event.data
        if event.type == "agent.state":
            self._agent_state(event)
            return
        # a dialler's call through the ACD is marked: the agent's call, not an inbound caller's queue stay
        # (docs/kpi.md, "Dialler calls")
        outbound = bool(data.get("outbound"))
        try:
            self._changed.add(event.subject)
            if event.type == "queue.entered":
                position = int(data.get("position") or 0)
                self.tracker.queue_entered(
                    event.subject, str(data.get("queue")), position, at=event.time, outbound=outbound
                )
            elif event.type == "queue.left":
                self.tracker.queue_left(
                    event.subject,
                    str(data.get("queue")),
                    str(data.get("outcome")),
                    waited=queue_wait(data),
                    agent=data.get("agent"),
                    at=event.time,
                    outbound=outbound,
                )
        except NotTrackedYet:
            pass  # held until AMI shows the call (the ARI and AMI links race)
        except KeyError:
            log.warning("queue event for a call the tracker does not know", extra={"call_id": event.subject})

    def _agent_state(self, event: DomainEvent) -> None:
        call_id = event.data.get("call_id")
        state = str(event.data.get("state"))
        ended = self.wrapups.on_state(event.subject, state, str(call_id) if call_id else None, event.time)
        if ended is None:
            return
        try:
            self.add_wrapup(ended.call_id, ended.seconds, ended.agent)
        except KeyError:  # e.g. a wrap-up resumed after a restart, for a call before it
            log.info("wrap-up of a call the tracker does not know", extra={"call_id": ended.call_id})

    async def engine_events_loop(self, sub: Any) -> None:
        while True:
            self.on_engine_event(await sub.get())

    # ------------------------------------------------------------------ inputs
    def on_ami_event(self, event: AmiEvent) -> None:
        linked = event.get("Linkedid")
        if linked:  # a change the tracker publishes no event for (AgentComplete's talk time, a Leave) included
            self._changed.add(linked)
        out = self.tracker.feed(event)
        if out:
            self._enqueue(out)

    def _enqueue(self, events: list[DomainEvent]) -> list[DomainEvent]:
        if not events:
            return events
        self.idle.clear()
        self._pending += 1
        self._events.put_nowait(events)
        self._changed.update(ev.subject for ev in events)
        facts = facts_of(events)
        if facts:
            self._put_facts(facts)
        return events

    async def resync(self, ami: ActionSender, wait: float = 30.0) -> None:
        """Reconcile the tracker with the PBX's live channels (after a (re)connect)."""
        try:
            channels = await live_channels(ami, timeout=wait, share=True)  # one action for every component asking now
        except Exception as exc:  # the link may drop again; the next login retries
            log.warning("CoreShowChannels failed; resync skipped", extra={"error": str(exc)[:200]})
            return
        self._enqueue(self.tracker.resync(list(channels.values())))
        self.resyncs += 1

    # engine facts (ACD/IVR/recording); each returns the domain events it produced
    def record_ivr_step(
        self, call_id: str, node: str, result: str | None = None, **extra: Any
    ) -> list[DomainEvent]:
        return self._enqueue(self.tracker.record_ivr_step(call_id, node, result, **extra))

    def set_self_service(self, call_id: str, outcome: str | None) -> list[DomainEvent]:
        return self._enqueue(self.tracker.set_self_service(call_id, outcome))

    def set_disposition(self, call_id: str, disposition: str) -> list[DomainEvent]:
        return self._enqueue(self.tracker.set_disposition(call_id, disposition))

    def attach_data(self, call_id: str, key: str, value: str) -> list[DomainEvent]:
        return self._enqueue(self.tracker.attach_data(call_id, key, value))

    def add_wrapup(self, call_id: str, seconds: float, agent: str | None = None) -> list[DomainEvent]:
        return self._enqueue(self.tracker.add_wrapup(call_id, seconds, agent))

    def add_recording(self, key: str, recording_id: str) -> list[DomainEvent]:
        return self._enqueue(self.tracker.add_recording(key, recording_id))

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self, every: bool = False) -> int:
        """Queue the checkpoints of the live calls changed since the last one (``every``: of all of them) behind
        the facts already queued, and say that the calls live here were alive now (``calls/checkpoints.py``; not
        those an earlier run left that this one has not seen yet: they keep their own last-seen time).
        Returns how many calls were checkpointed."""
        calls = self.tracker.calls
        changed = list(calls) if every else [c for c in self._changed if c in calls]
        self._changed.clear()
        if not calls:
            return 0
        now = self.tracker.clock.now()
        facts: list[dict[str, Any]] = [{"kind": "live_seen", "seen": now, "calls": list(calls)}]
        facts += [{"kind": "live", "data": self.tracker.checkpoint(calls[c]), "seen": now} for c in changed]
        self._put_facts(facts)
        return len(changed)

    async def release_loop(self, interval: float = 0.5) -> None:
        """Legs whose end waits for their CEL ``HANGUP`` (``calls/hangups.py``) end at the latest
        ``HOLD_SECONDS`` after their ``Hangup`` by the local clock, however quiet the link is."""
        while True:
            await self.tracker.clock.sleep(interval)
            if self.tracker.cel.held:
                self._enqueue(self.tracker.release_due())

    def release_held(self) -> None:
        """The link is gone (shutdown): end the held legs now."""
        self._enqueue(self.tracker.release_held())

    async def checkpoint_loop(self, interval: float) -> None:
        while True:
            await self.tracker.clock.sleep(interval)
            self.checkpoint()

    # ------------------------------------------------------------------ pumps
    async def publish_loop(self) -> None:
        while True:
            batch = await self._events.get()
            for ev in batch:
                if self.bus is not None:
                    try:
                        await self.bus.publish(ev)
                    except Exception:
                        log.exception("bus publish failed", extra={"type": ev.type})
                self.published += 1
            self._check_idle()

    async def persist_loop(self) -> None:
        while True:
            facts = list(await self._facts.get())
            await asyncio.sleep(LINGER)  # nobody waits for these rows: a tick's worth of facts, one transaction
            batches = 1
            while not self._facts.empty() and len(facts) < 2000:  # one transaction for what queued meanwhile
                facts.extend(self._facts.get_nowait())
                batches += 1
            if self.writer is not None:
                try:
                    await self.writer.write(facts)
                except Exception:
                    log.exception("persisting call facts failed")
            self.persisted += len(facts)
            for _ in range(batches):
                self._check_idle()

    def _check_idle(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self.idle.set()

    async def flush(self, limit: float = 30.0) -> None:
        """Wait until every queued event is published and every fact handed to the writer."""
        async with asyncio.timeout(limit):
            await self.idle.wait()
