"""The ACD: calls wait in queues, a router matches them to agents, connectors ring and bridge.

One routing task re-runs ``routing.assign`` whenever something changed (a call arrived, an agent became free,
a device registered) and once a second for relaxation, aging, overflow and max-wait.
Reservations happen inside
that single task, so no agent is offered two calls and no call two agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ctiserver.acd.agent_state import AgentState, AgentStatus, IllegalTransition
from ctiserver.acd.agents import Agent, AgentRegistry
from ctiserver.acd.callbacks import Callbacks
from ctiserver.acd.config import AcdConfig, QueueConfig
from ctiserver.acd.connect import Connector, OfferResult, Recorder
from ctiserver.acd.desk import AgentDesk
from ctiserver.acd.entries import Entry, Outcome, QueueRequest, QueueResult
from ctiserver.acd.hold import Hold
from ctiserver.acd.incall import InCall
from ctiserver.acd.persist import AgentStateStore
from ctiserver.acd.reservations import Reservations
from ctiserver.acd.resume import Resumption
from ctiserver.acd.routing import Waiting, assign, available, estimated_wait, qualifies, req_key
from ctiserver.acd.stats import QueueStats
from ctiserver.acd.survey import PostCallSurvey
from ctiserver.acd.transfer import Transfers
from ctiserver.acd.waiting import WaitingCalls
from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError
from ctiserver.eager import eager_future
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)

TICK = 1.0


class UnknownQueue(KeyError):
    pass


class AcdService(Callbacks, AgentDesk, Resumption, Transfers, InCall, Reservations):
    def __init__(
        self,
        config: AcdConfig,
        control: CallControl,
        clock: Clock,
        bus: Bus,
        store: AgentStateStore,
        recorder: Recorder | None = None,
        survey: PostCallSurvey | None = None,
        control_up: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self._control = control
        # the ARI events socket is connected: without it an offer is blind (the agent's answer, the caller's
        # hang-up are not seen) and an agent would be set not ready for the PBX link's fault; routing waits
        self._control_up = control_up or (lambda: True)
        self._clock = clock
        self._bus = bus
        self._store = store
        self.agents = AgentRegistry(clock, bus, store)
        self.stats: dict[str, QueueStats] = {q.name: QueueStats() for q in config.queues}
        self._waiting = WaitingCalls()
        self._seq = itertools.count(1)
        self._kick = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wrapups: dict[str, asyncio.Task[None]] = {}
        self._held_over = {}  # agent → its call from the earlier run (``resume.py``)
        self._pending_pause: dict[str, str] = {}
        self._held = {}  # agent → the call it is reserved for (``reservations.py``)
        self._retrying = {}
        self._recorder = recorder
        self.connector = Connector(
            control, clock, bus, self.agents, recorder, self._answered, survey, on_consult_end=self._consult_over
        )
        self.agents.listeners.append(self._agent_changed)

    # ---- life cycle -------------------------------------------------------------------------------------
    async def __aenter__(self) -> AcdService:
        skills = await self._store.load_skills()
        for cfg in self.config.agents:
            self.agents.add(cfg, skills.get(cfg.id))
        saved = await self._store.load()
        for agent in self.agents:
            status = saved.get(agent.id)
            if status is not None:
                await self._resume(agent, status)
            elif any(a.id == agent.id and a.login for a in self.config.agents):
                await self.agents.change(agent.id, AgentState.READY)
        await self.restore_callbacks()
        self._spawn(self._router(), "cti:acd-router")
        return self

    async def __aexit__(self, *exc: object) -> None:
        tasks = list(self._tasks) + list(self._wrapups.values()) + self._resume_tasks()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.connector.close()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def queue_config(self, name: str) -> QueueConfig:
        try:
            return self.config.queue(name)
        except KeyError:
            raise UnknownQueue(name) from None

    async def _event(self, type_: str, subject: str, data: Mapping[str, Any]) -> None:
        await self._bus.publish(new_event(type_, subject, data, self._clock.now()))

    # ---- calls ------------------------------------------------------------------------------------------
    async def enqueue(self, request: QueueRequest) -> QueueResult:
        """Put a call in a queue and return when its stay in the ACD is over (talked, abandoned, timed out,
        turned into a call-back)."""
        cfg = self.queue_config(request.queue)
        mono = self._clock.monotonic()
        waiting = Waiting(
            call_id=request.call_id,
            queue=cfg.name,
            requirements=dict(request.requirements if request.requirements is not None else cfg.requirements),
            strategy=cfg.strategy,
            priority=request.priority if request.priority is not None else cfg.priority,
            entered=mono,
            seq=next(self._seq),
            relax=cfg.relax,
            queue_entered=mono,
            only=request.only_agent,
        )
        held = False
        if request.only_agent is not None:
            self.agents.get(request.only_agent)
            waiting.requirements = {}
            held = self._take_reserved(request.only_agent, request.call_id)  # reserve(agent, call) before
        done: asyncio.Future[QueueResult] = asyncio.get_running_loop().create_future()
        entry = Entry(request, waiting, dict(request.attached), request.channel_id, done)
        self.stats[cfg.name].entered += 1
        if held:
            self._start_hold(entry)
        else:
            await self._add_waiting(entry)
        try:
            await self._event(
                "queue.entered",
                entry.call_id,
                {
                    "queue": cfg.name,
                    "position": self.position(entry.call_id),
                    "priority": waiting.priority,
                    "channel": request.channel_id,
                    "attached": dict(entry.attached),
                    "outbound": entry.outbound,
                },
            )
        finally:  # straight to the agent held for it, no routing (even if we are cancelled: never leak it)
            if held and request.only_agent is not None:
                self._spawn(self._serve(entry, request.only_agent, None), f"cti:acd-offer-{entry.call_id}")
        watcher = self._spawn(self._watch_caller(entry), f"cti:acd-watch-{entry.call_id}")
        try:
            return await done
        finally:
            watcher.cancel()

    async def _add_waiting(self, entry: Entry) -> None:
        self._waiting.add(entry)
        self._start_hold(entry)
        self._kick.set()

    def _start_hold(self, entry: Entry) -> None:
        if entry.channel_id is not None and entry.hold_task is None:
            hold = Hold(
                self._control,
                self._clock,
                lambda: self.queue_config(entry.waiting.queue),
                self._announce,
                self._callback_requested,
            )
            entry.hold_task = self._spawn(hold.run(entry), f"cti:acd-hold-{entry.call_id}")

    async def _watch_caller(self, entry: Entry) -> None:
        """A caller who hangs up while waiting has abandoned (offers in progress handle their own)."""
        channel = entry.channel_id
        if channel is None:
            return
        await self._control.wait_hangup(channel)
        if entry.call_id in self._waiting and entry.channel_id is not None:
            await self._leave(entry, Outcome.ABANDONED)

    async def _leave(self, entry: Entry, outcome: Outcome, agent: str | None = None) -> None:
        self._waiting.pop(entry.call_id)
        if entry.hold_task is not None:
            entry.hold_task.cancel()
            entry.hold_task = None
        stats = self.stats[entry.waiting.queue]
        if outcome is Outcome.ABANDONED:
            stats.abandoned += 1
        elif outcome is Outcome.TIMEOUT:
            stats.timeout += 1
        elif outcome is Outcome.TRANSFERRED:
            stats.transferred += 1
        waited = self._clock.monotonic() - entry.waiting.entered
        await self._event(
            "queue.left",
            entry.call_id,
            {
                "queue": entry.waiting.queue,
                "outcome": outcome.value,
                "waited": round(waited, 3),
                "agent": agent,
                "outbound": entry.outbound,
            },
        )
        if not entry.done.done():
            entry.done.set_result(QueueResult(outcome, entry.waiting.queue, waited, agent))

    async def _answered(self, entry: Entry, agent: Agent) -> None:
        waited = self._clock.monotonic() - entry.waiting.entered
        stats = self.stats[entry.waiting.queue]
        stats.answered += 1
        stats.waited(waited)
        if entry.is_callback:
            stats.callbacks_connected += 1
        need = entry.waiting.need(self._clock.monotonic())
        if need.relaxed and not qualifies(agent.skills, entry.waiting.requirements):
            stats.relaxed_answers += 1
        await self._event(
            "queue.left",
            entry.call_id,
            {
                "queue": entry.waiting.queue,
                "outcome": "answered",
                "waited": round(waited, 3),
                "agent": agent.id,
                "relaxed": need.relaxed,
                "callback": entry.is_callback,
                "outbound": entry.outbound,
            },
        )
        await self._owed_no_more(entry)  # a call-back made (after the event: the bridge does not wait for it)

    # ---- positions, EWT ----------------------------------------------------------------------------------
    def waiting_in(self, queue: str) -> list[Waiting]:
        return self._waiting.in_queue(queue)

    def position(self, call_id: str) -> int:
        """1-based place in the queue's service order (cached per queue, see ``waiting.py``)."""
        return self._waiting.position(call_id, self._clock.monotonic(), self.config.aging_per_minute)

    def _announce(self, entry: Entry) -> tuple[int, float | None]:
        pos = self.position(entry.call_id)
        key = req_key(entry.waiting.need(self._clock.monotonic()).requirements)
        index = self.agents.index
        aht = self.stats[entry.waiting.queue].aht
        return pos, estimated_wait(pos, aht, index.staffed(key), index.free_qualified(key))

    # ---- routing ----------------------------------------------------------------------------------------
    async def _router(self) -> None:
        ticker = self._spawn(self._ticker(), "cti:acd-ticker")
        try:
            while True:
                await self._kick.wait()
                self._kick.clear()
                await self._housekeeping()
                await self._route_once()
        finally:
            ticker.cancel()

    async def _ticker(self) -> None:
        while True:
            await self._clock.sleep(TICK)
            self._kick.set()

    async def _housekeeping(self) -> None:
        now = self._clock.monotonic()
        for entry in list(self._waiting.values()):
            cfg = self.queue_config(entry.waiting.queue)
            if cfg.max_wait is not None and not entry.is_callback and now - entry.waiting.entered >= cfg.max_wait:
                await self._leave(entry, Outcome.TIMEOUT)
            elif cfg.overflow is not None and now - entry.waiting.queue_entered >= cfg.overflow.after:
                await self._overflow(entry, cfg.overflow.queue)

    async def _overflow(self, entry: Entry, target: str) -> None:
        src = entry.waiting.queue
        cfg = self.queue_config(target)
        self.stats[src].overflowed += 1
        left = {"queue": src, "outcome": "overflow", "to": target, "outbound": entry.outbound}
        await self._event("queue.left", entry.call_id, left)
        w = entry.waiting
        w.queue, w.requirements, w.strategy, w.relax = (
            cfg.name,
            dict(cfg.requirements),
            cfg.strategy,
            cfg.relax,
        )
        w.priority = max(w.priority, cfg.priority)
        w.queue_entered = self._clock.monotonic()
        self._waiting.moved(entry)
        self.stats[cfg.name].entered += 1
        await self._event("queue.entered", entry.call_id, {"queue": cfg.name, "from": src, "outbound": entry.outbound})

    async def _route_once(self) -> None:
        index = self.agents.index
        if not self._waiting or not index.free or not self._control_up():
            return  # O(1): nobody waits, or nobody is free, or the PBX link is away (the ticker retries)
        calls, now = [e.waiting for e in self._waiting.values() if not self._on_hold(e)], self._clock.monotonic()
        aging = self.config.aging_per_minute
        pairs = assign(calls, index.free, now, aging, index.qualified, all_free=True, presorted=index.presorted)
        for waiting, candidate in pairs:
            entry = self._waiting.pop(waiting.call_id)
            if entry is None:
                continue
            # the reservations of one pass are written together (one commit), not one after the other; eagerly:
            # each takes its place in the state order now, as routing saw the agents. Its write and publication
            # finish in the offer's task, so the next routing pass does not wait for this pass's commit
            reservation = eager_future(self.agents.change(candidate.id, AgentState.RESERVED, call_id=entry.call_id))
            self._spawn(self._serve(entry, candidate.id, reservation), f"cti:acd-offer-{entry.call_id}")

    async def _serve(self, entry: Entry, agent_id: str, reservation: Awaitable[AgentStatus] | None) -> None:
        try:  # RESERVED is persisted and published before the offer's own events (None: held already)
            if reservation is not None:
                await reservation
        except IllegalTransition as exc:  # the agent changed state meanwhile (logout, pause...): route it again
            log.warning("reservation failed", call_id=entry.call_id, agent=agent_id, error=str(exc))
            await self._add_waiting(entry)
            return
        except Exception:  # not written or not published; the agent is reserved all the same: go on
            log.exception("reservation not recorded", call_id=entry.call_id, agent=agent_id)
        agent = self.agents.get(agent_id)
        cfg = self.queue_config(entry.waiting.queue)
        started = self._clock.monotonic()
        try:
            result = await self.connector.offer(entry, agent, cfg)
        except Exception as exc:  # keep the ACD alive; put the agent somewhere sane
            log.exception("offer failed", call_id=entry.call_id, agent=agent.id)
            result = OfferResult.UNREACHABLE
            if agent.state is AgentState.ON_CALL:
                result = OfferResult.TALKED
            del exc
        if result in (OfferResult.MISSED, OfferResult.UNREACHABLE):
            reason = self.config.missed_reason if result is OfferResult.MISSED else self.config.unreachable_reason
            if result is OfferResult.MISSED:
                self.stats[cfg.name].rona += 1
            if agent.state in (AgentState.RESERVED, AgentState.RINGING):
                await self.agents.change(agent.id, AgentState.NOT_READY, reason=reason)
            entry.waiting.excluded.add(agent.id)
            if len(entry.waiting.excluded) >= len(self.agents):
                entry.waiting.excluded.clear()
            await self._event("queue.requeued", entry.call_id, {"queue": cfg.name, "agent": agent.id, "why": reason})
            await self._add_waiting(entry)  # same seq: same place
            return
        if result is OfferResult.CALLER_GONE:
            await self._leave(entry, Outcome.ABANDONED)
            return
        if result is OfferResult.RETRY:
            await self._event("queue.requeued", entry.call_id, {"queue": cfg.name, "agent": agent.id, "why": "retry"})
            await self._add_waiting(entry)
            return
        if result is OfferResult.CUSTOMER_FAILED:
            await self._end_talk(agent, cfg, None)
            entry.callback_attempts += 1
            if entry.callback_attempts < cfg.callback.attempts:  # try again later, keeping the place
                delay = cfg.callback.retry_after
                await self._event(
                    "callback.retry",
                    entry.call_id,
                    {"queue": cfg.name, "attempt": entry.callback_attempts, "retry_in": delay},
                )
                await self._keep(entry, retry_at=self._clock.now() + delay)
                self._retry_later(entry, delay)
                return
            self.stats[cfg.name].callbacks_failed += 1
            await self._owed_no_more(entry)
            if not entry.done.done():
                entry.done.set_result(QueueResult(Outcome.CALLBACK, cfg.name, 0.0, agent.id))
            return
        if entry.final_agent is not None:  # attended transfer: the last agent wraps up now
            agent = self.agents.get(entry.final_agent)
        await self._end_talk(agent, cfg, started)
        if result is OfferResult.REQUEUE and entry.transfer_to is not None:
            await self._requeue(entry, *entry.transfer_to)
            return
        if result is OfferResult.TRANSFERRED:
            self.stats[cfg.name].transferred += 1
            if entry.transfer_number is not None and entry.channel_id is not None:
                with contextlib.suppress(ControlError):
                    await self._control.continue_in_dialplan(
                        entry.channel_id, self.config.transfer_context, entry.transfer_number
                    )
            if not entry.done.done():
                entry.done.set_result(QueueResult(Outcome.TRANSFERRED, cfg.name, 0.0, agent.id))
            return
        waited = started - entry.waiting.entered
        if not entry.done.done():
            entry.done.set_result(QueueResult(Outcome.ANSWERED, cfg.name, waited, agent.id))

    async def _requeue(self, entry: Entry, queue: str, only: str | None) -> None:
        """A blind transfer into a queue (or to one agent): the caller waits again, data and call id kept."""
        cfg = self.queue_config(queue)
        w = entry.waiting
        src = w.queue
        w.queue, w.strategy, w.relax, w.only = cfg.name, cfg.strategy, cfg.relax, only
        w.requirements = {} if only else dict(cfg.requirements)
        w.queue_entered, w.seq = self._clock.monotonic(), next(self._seq)
        w.excluded.clear()
        entry.transfer_to = None
        self.stats[src].transferred += 1
        self.stats[cfg.name].entered += 1
        await self._event(
            "queue.entered",
            entry.call_id,
            {
                "queue": cfg.name,
                "from": src,
                "agent": only,
                "transfer": True,
                "attached": dict(entry.attached),
                "outbound": entry.outbound,
            },
        )
        await self._add_waiting(entry)

    async def _release(self, agent_id: str) -> None:
        agent = self.agents.get(agent_id)
        if agent.state is AgentState.ON_CALL:
            queue = agent.status.call_id and self._queue_of(agent.status.call_id)
            await self._end_talk(agent, self.queue_config(queue or self.config.queues[0].name), self._clock.monotonic())

    def _queue_of(self, call_id: str) -> str | None:
        talk = self.connector.talks.get(call_id)
        return talk.entry.waiting.queue if talk is not None else None

    async def _end_talk(self, agent: Agent, cfg: QueueConfig, started: float | None) -> None:
        if started is not None:
            self.stats[cfg.name].handled(self._clock.monotonic() - started)
        if agent.state is not AgentState.ON_CALL:
            return
        await self._wrap_up(agent.id, cfg.wrapup)

    async def _agent_changed(self, agent: Agent, prev: AgentStatus) -> None:
        if available(agent):
            self._kick.set()

    def snapshot(self) -> dict[str, Any]:
        return {
            "agents": [a.to_json() for a in self.agents],
            "queues": {name: {**s.to_json(), "waiting": len(self.waiting_in(name))} for name, s in self.stats.items()},
        }
