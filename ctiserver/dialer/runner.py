"""One running campaign: the pacing loop and the life of each attempt.

Every second (and whenever a call or an agent changes) the runner builds a ``PacingSnapshot`` from the desk
and its calls in flight, asks the campaign's pacer how many calls to launch, and launches them on the due
contacts that pass the checks made *at dial time*: inside the callee's calling window, not on a do-not-call
list, attempts left. Each attempt is a leg with an outcome (``dialer.attempt`` on the bus, stored); a live
answer gets an agent within ``agent_wait`` (2 s) or hears the message and counts as abandoned in the
campaign's ledger.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from ctiserver.clock import Clock
from ctiserver.dialer.amd_audit import AmdAudit
from ctiserver.dialer.campaign_state import CampaignState, advance
from ctiserver.dialer.dial_checks import dial_time_checks
from ctiserver.dialer.history import rebuild_ledger, warm_stats
from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
)
from ctiserver.dialer.pacing import Pacer, PacingSnapshot, Predictive, for_campaign
from ctiserver.dialer.ports import Conversation, Desk, DialRejected, DialSpec, Fate, LineResult, Lines, NotPlaced
from ctiserver.dialer.repeats import Repeat
from ctiserver.dialer.stats import AbandonLedger, DialStats
from ctiserver.dialer.store import DialerStore
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger
from ctiserver.tasks import cancel_and_wait

log = get_logger(__name__)

TICK = 1.0
HELD_AGENT_RETRY = 30.0  # s: a number that may only be dialled with an agent held, when none was free


class DialRefused(Exception):
    """A contact that may not be dialled now; the message says why."""


class CampaignRunner:
    def __init__(
        self,
        settings: CampaignSettings,
        store: DialerStore,
        lines: Lines,
        desk: Desk,
        bus: Bus,
        clock: Clock,
        numbers_in_flight: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        # number → attempt, the calls in flight of every campaign of the service: never two at once to a number
        self.numbers = numbers_in_flight if numbers_in_flight is not None else {}
        self.store = store
        self.lines = lines
        self.desk = desk
        self.bus = bus
        self.clock = clock
        self.state = CampaignState.DRAFT
        self.halted: str | None = None  # why the campaign paused itself (the PBX refused its calls)
        self.stats = DialStats()
        self.ledger = AbandonLedger(
            settings.abandon_cap, settings.abandon_window_seconds, false_positive_rate=settings.amd_false_positive_rate
        )
        self.pacer: Pacer = for_campaign(settings, self.stats, self.ledger)
        self.audit = AmdAudit(settings, store, self.ledger)  # a share of MACHINE verdicts to agents (amd_audit.py)
        self.counters: Counter[str] = Counter()
        self.ringing: dict[str, float] = {}  # attempt id → wall time dialled (not answered yet)
        self.held: set[str] = set()  # attempts dialled with their agent held already (their answers need no other)
        self.waiting_live = 0
        # contact id → the agent it is connected to, from the bridge until its attempt is stored (the agent may
        # set the contact's disposition before the attempt record says who talked to it)
        self.talking: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._kick = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._gate = asyncio.Lock()  # one pacing decision at a time

    # ---- life cycle ---------------------------------------------------------------------------------------
    async def load_history(self) -> None:
        """Rebuild the abandonment ledger of the regulatory window and warm the pacer's statistics from the
        stored attempts (restart-safe; ``ctiserver.dialer.history``)."""
        now = self.clock.now()
        await rebuild_ledger(self.store, self.settings.name, self.ledger, now)
        await self.audit.load(now)  # the measured false-positive rate, once there are enough verdicts
        await warm_stats(self.store, self.settings.name, self.stats, now)

    async def settle_left_in_flight(self, fate: Fate | None = None) -> int:
        """Contacts an earlier run left ``dialling`` (it died with their calls in flight; a graceful stop ends
        them). ``fate(attempt)`` tells what became of the call (``dialer/left_in_flight.py``: the call tracker,
        which takes the calls a killed run left back from their checkpoints): ``human`` (it reached an agent:
        done), ``unknown``, or None while the call goes on (asked again later). Without ``fate``, or for a
        contact with no attempt id, the fate is unknown, as after an AMI link loss: an ``unknown`` attempt,
        dialled again only after the ``failed`` delay (it may have reached the callee), counted against
        ``max_attempts``. Before, they stayed ``dialling`` for ever: never dialled again, and the campaign never
        completed. Returns how many still go on."""
        _, left = await self.store.contacts_page(self.settings.name, 0, 1_000_000, ContactStatus.DIALLING)
        going_on = 0
        for contact in left:
            if contact.attempt is not None and contact.attempt in self._tasks:
                continue  # this run's own call
            outcome = fate(contact.attempt) if fate is not None and contact.attempt else Outcome.UNKNOWN
            if outcome is None:
                going_on += 1
                continue
            log.warning(
                "a call an earlier run left in flight", campaign=self.settings.name, contact=contact.id, outcome=outcome
            )
            attempt = contact.attempt or uuid.uuid4().hex
            await self._finish(attempt, contact, self.clock.now(), LineResult(outcome), None)
        return going_on

    async def _set_state(self, dst: CampaignState, reason: str | None = None) -> None:
        self.state = advance(self.settings.name, self.state, dst)
        self.halted = reason
        data = {"campaign": self.settings.name, "state": dst.value, **({"reason": reason} if reason else {})}
        await self._event("campaign.state", self.settings.name, data)

    async def _halt(self, reason: str) -> None:
        """The PBX refused a call for a reason every next call would meet (``DialRejected``): pause, say why."""
        if self.state is not CampaignState.RUNNING:
            return  # calls launched together are refused together: one pause, one message
        log.error("campaign paused: the PBX refuses its calls", campaign=self.settings.name, reason=reason)
        await self._set_state(CampaignState.PAUSED, reason)

    async def start(self) -> None:
        await self._set_state(CampaignState.RUNNING)
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(), name=f"cti:dialer-{self.settings.name}")
        self._kick.set()

    async def pause(self) -> None:
        await self._set_state(CampaignState.PAUSED)

    async def resume(self) -> None:
        await self.start()

    async def stop(self) -> None:
        """Nothing new is dialled; calls still ringing are hung up on the PBX (answered calls go on: to an agent
        or the message, and each attempt is stored as it ends)."""
        await self._set_state(CampaignState.STOPPED)
        await asyncio.gather(*(self.lines.drop(attempt_id) for attempt_id in list(self.ringing)))

    async def close(self) -> None:
        try:
            await cancel_and_wait(self._loop)
        finally:
            tasks = list(self._tasks.values())
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def kick(self) -> None:
        self._kick.set()

    @property
    def in_flight(self) -> int:
        """Attempts not finished yet (ringing, with an agent, or hearing the message)."""
        return len(self._tasks)

    async def _run(self) -> None:
        ticker = asyncio.create_task(self._ticker())
        try:
            while True:
                await self._kick.wait()
                self._kick.clear()
                if self.state is CampaignState.RUNNING:
                    try:
                        await self.pace_once()
                    except Exception:  # keep dialling: one bad decision must not stop the campaign
                        log.exception("pacing failed", campaign=self.settings.name)
        finally:
            ticker.cancel()

    async def _ticker(self) -> None:
        while True:
            await self.clock.sleep(TICK)
            self._kick.set()

    # ---- pacing -------------------------------------------------------------------------------------------
    def snapshot(self) -> PacingSnapshot:
        now = self.clock.now()
        return PacingSnapshot(
            now=now,
            agents=self.desk.agent_views(self.settings),
            ringing=[now - t for a, t in self.ringing.items() if a not in self.held],
            waiting_live=self.waiting_live,
            wrap_seconds=15.0,
        )

    async def pace_once(self) -> int:
        async with self._gate:
            if self.lines.blocked() is not None:
                return 0
            snap = self.snapshot()
            if isinstance(self.pacer, Predictive):
                want = self.pacer.decide(snap, snap.now)
                self.counters[f"{self.pacer.last_mode}_decisions"] += 1
            else:
                want = self.pacer.decide(snap)
            if want <= 0:
                return 0
            launched = 0
            now = self.clock.now()
            for contact in await self.store.due(self.settings.name, now, max(want * 3, 20)):
                if launched >= want or self.state is not CampaignState.RUNNING:
                    break
                repeat = await self._dialable(contact, now)
                if repeat is None:
                    continue
                # a personal call-back (only when its agent is free), or a number abandoned lately (repeats.py)
                if contact.agent is not None or repeat.hold_agent:
                    attempt_id = uuid.uuid4().hex  # the agent is held for this attempt
                    agent = await self.desk.reserve(self.settings, 0.0, contact.agent, call_id=attempt_id)
                    if agent is None:
                        if contact.agent is None:  # any agent will do: out of the way of the others until then
                            await self.store.save_contact(replace(contact, next_at=now + HELD_AGENT_RETRY))
                        continue
                    await self._launch(contact, agent, reserved=True, attempt_id=attempt_id)
                else:
                    await self._launch(contact)
                launched += 1
            if launched == 0 and not self.ringing and not self._tasks:
                await self._maybe_complete()
            return launched

    async def _dialable(self, contact: Contact, now: float) -> Repeat | None:
        """The checks made at the moment of dialling (``dial_checks.py``); None: not now."""
        checks = self.store, self.settings, self.counters, self._event, self.numbers
        return await dial_time_checks(*checks, contact, now)

    async def _maybe_complete(self) -> None:
        """Every idle turn asks: one row by index (up to session 24 it read all the campaign's contacts)."""
        if self.state is CampaignState.RUNNING and not await self.store.has_open(self.settings.name):
            await self._set_state(CampaignState.COMPLETED)

    async def dial_contact(self, contact_id: str, agent: str | None = None) -> str:
        """Dial one contact now (preview: the agent pressed dial; call-backs), with the dial-time checks."""
        contact = await self.store.get_contact(self.settings.name, contact_id)
        if contact is None:
            raise KeyError(f"campaign {self.settings.name} has no contact {contact_id!r}")
        if contact.status not in (ContactStatus.PENDING, ContactStatus.CALLBACK):
            raise DialRefused(f"contact {contact_id} is {contact.status.value}")
        if not await self._dialable(contact, self.clock.now()):
            raise DialRefused(f"contact {contact_id} cannot be dialled now (do-not-call or outside its window)")
        return await self._launch(contact, agent)

    async def _launch(
        self, contact: Contact, agent: str | None = None, reserved: bool = False, attempt_id: str | None = None
    ) -> str:
        """``reserved``: ``agent`` is held for this attempt already (``desk.reserve`` with ``attempt_id``)."""
        attempt_id = attempt_id or uuid.uuid4().hex
        contact = replace(contact, status=ContactStatus.DIALLING, attempt=attempt_id)
        await self.store.save_contact(contact)  # before dialling: a crash never re-dials it blindly
        self.ringing[attempt_id] = self.clock.now()
        self.numbers[contact.number] = attempt_id
        if reserved:
            self.held.add(attempt_id)
        self.counters["dialled"] += 1
        task = asyncio.create_task(
            self._attempt(attempt_id, contact, agent, reserved), name=f"cti:dialer-att-{attempt_id}"
        )
        self._tasks[attempt_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(attempt_id, None))
        return attempt_id

    # ---- one attempt --------------------------------------------------------------------------------------
    async def _attempt(self, attempt_id: str, contact: Contact, agent: str | None, reserved: bool) -> None:
        started = self.clock.now()
        result: LineResult | None = LineResult(Outcome.FAILED)
        talk_agent: str | None = None
        answered: float | None = None  # when the line said the callee answered
        conv: Conversation | None = None
        audit: str | None = None  # "pending": a MACHINE verdict offered to an agent (amd_audit.py)
        try:
            try:
                result = await self.lines.place(DialSpec(attempt_id, self.settings, contact))
            except NotPlaced as exc:
                result = None  # certainly not dialled: no attempt, the contact stays due
                self.counters["dialled"] -= 1
                self.counters["not_placed"] += 1
                await self.store.save_contact(replace(contact, status=ContactStatus.PENDING, attempt=None))
                if isinstance(exc, DialRejected):
                    await self._halt(str(exc))
                else:
                    log.warning("call not placed", campaign=self.settings.name, contact=contact.id, reason=str(exc))
                return
            except asyncio.CancelledError:
                result = LineResult(Outcome.NOANSWER)  # stopped while ringing
                raise
            except Exception as exc:
                log.warning("dial failed", campaign=self.settings.name, error=str(exc)[:200])
                result = LineResult(Outcome.FAILED)
            finally:
                self.ringing.pop(attempt_id, None)
                if result is not None and result.timed:  # not one whose fate was learnt after an AMI outage
                    if result.outcome in (Outcome.HUMAN, Outcome.MACHINE):
                        answered = self.clock.now()
                    self.stats.record_attempt(result.outcome is Outcome.HUMAN, self.clock.now() - started)
                self._kick.set()
            if result.outcome is Outcome.HUMAN and result.channel is not None:
                talk_agent, result, conv = await self._live(attempt_id, contact, result, agent, reserved)
            elif result.outcome is Outcome.MACHINE and result.channel is not None and self.audit.pick():
                self.counters["machine"] += 1
                self.counters["amd_audit"] += 1  # to an agent like a live answer: its disposition says who it was
                audit = "pending"
                live = replace(result, outcome=Outcome.HUMAN, greeting_end=None)
                marked = replace(contact, fields={**contact.fields, "amd_audit": "machine"})  # the agent's pop says so
                talk_agent, result, conv = await self._live(attempt_id, marked, live, agent, reserved)
            elif result.outcome is Outcome.MACHINE:
                self.counters["machine"] += 1
                self.ledger.record_machine(self.clock.now())  # a share were people (amd_false_positive_rate)
                if result.channel is not None and self.settings.machine_message:
                    await self.lines.abandon(result.channel, self.settings.machine_message)
                elif result.channel is not None:
                    await self.lines.hangup(result.channel)
        finally:
            if reserved and agent is not None and talk_agent is None:
                await self.desk.release(agent)
            if result is not None:
                ended = (attempt_id, contact, started, result, talk_agent)
                await self._finish(*ended, answered=answered, conv=conv, audit=audit)
            self.talking.pop(contact.id, None)
            self.held.discard(attempt_id)
            if self.numbers.get(contact.number) == attempt_id:
                del self.numbers[contact.number]

    async def _live(
        self, attempt_id: str, contact: Contact, result: LineResult, agent: str | None, held: bool = False
    ) -> tuple[str | None, LineResult, Conversation | None]:
        """(the agent who talked with the callee, the result, the conversation)."""
        assert result.channel is not None
        s = self.settings
        # the law's two seconds run from the end of the callee's greeting (``greeting.py``), not from here
        start = self.clock.now()
        greeting = result.greeting_end if result.greeting_end is not None else start
        deadline = greeting + s.agent_wait  # an agent's phone must have answered by then
        wait = max(0.0, deadline - start)
        self.stats.record_grace_used(start - greeting)
        self.waiting_live += 1
        try:
            reserved = agent if held else await self.desk.reserve(s, wait, agent, call_id=attempt_id)
        finally:
            self.waiting_live -= 1
        now = self.clock.now()
        self.counters["live"] += 1
        if reserved is None:
            self.counters["abandoned"] += 1
            self._count_live(now, abandoned=True)
            await self.lines.abandon(result.channel, s.abandon_message)
            return None, replace(result, outcome=Outcome.ABANDONED), None
        self._count_live(now, abandoned=False)
        self.counters["connected"] += 1
        try:
            await self._event(
                "dialer.connected",
                attempt_id,
                {"campaign": s.name, "agent": reserved, "channel": result.channel, **contact.pop_data()},
            )
        except BaseException:
            await self.desk.release(reserved)  # the hold must not outlive the attempt
            raise
        self.talking[contact.id] = reserved
        conv = await self.desk.converse(s, reserved, contact, attempt_id, result.channel)
        if conv is None:  # the agent never took it (the customer left first, the phone did not answer): abandoned
            self.counters["connected"] -= 1
            self.counters["abandoned"] += 1
            self._amend(now)
            await self.lines.abandon(result.channel, s.abandon_message)  # if still there: the message
            return None, replace(result, outcome=Outcome.ABANDONED), None
        self.stats.record_talk(conv.talk)
        connected = conv.connected
        if not held and connected is not None and connected > deadline:
            # served, but the agent's phone answered past the two seconds (it rang): the law's abandoned call
            self.counters["late"] += 1
            self._amend(now)
            conv = replace(conv, late=True)
            log.warning(
                "live answer reached its agent late: counted as abandoned (give dialler agents auto-answer)",
                campaign=s.name,
                attempt=attempt_id,
                agent=reserved,
                after_greeting=round(connected - deadline + s.agent_wait, 2),
            )
        return reserved, result, conv

    async def _finish(
        self,
        attempt_id: str,
        contact: Contact,
        started: float,
        result: LineResult,
        agent: str | None,
        *,
        answered: float | None = None,
        conv: Conversation | None = None,
        audit: str | None = None,
    ) -> None:
        now = self.clock.now()
        record = AttemptRecord(
            attempt_id,
            self.settings.name,
            contact.id,
            contact.number,
            started,
            result.outcome,
            now,
            result.channel,
            agent,
            result.amd_status,
            result.amd_cause,
            self.pacer.name if not isinstance(self.pacer, Predictive) else self.pacer.last_mode,
            answered,
            conv.talk if conv is not None else None,
            conv.connected if conv is not None else None,
            conv is not None and conv.late,
            audit,
        )
        attempts = contact.attempts + 1
        delay = self.settings.retry.delay(result.outcome)
        if result.outcome is Outcome.HUMAN:
            status, next_at = ContactStatus.DONE, contact.next_at
        elif delay is None or attempts >= self.settings.retry.max_attempts:
            status, next_at = ContactStatus.EXHAUSTED, contact.next_at
        else:
            status, next_at = ContactStatus.PENDING, now + delay
        updated = replace(
            contact, attempts=attempts, status=status, next_at=next_at, last_outcome=result.outcome, attempt=None
        )
        try:
            await self.store.save_contact(updated)
            await self.store.record_attempt(record)
            early = self.audit.early.pop(contact.id, None)  # a disposition given during the call
            if audit and early:
                await self.audit.verdict(record, early, now)
        except Exception:  # the event below still carries the attempt; the contact is settled at the next start
            log.exception("attempt not stored", campaign=self.settings.name, attempt=attempt_id, contact=contact.id)
        self.counters[f"outcome_{result.outcome.value}"] += 1
        await self._event("dialer.attempt", attempt_id, record.to_json())
        self._kick.set()

    def _count_live(self, at: float, *, abandoned: bool) -> None:
        """A live answer, served or abandoned: the cap's ledger and the pacer's statistics both count it."""
        self.ledger.record(at, abandoned)
        self.stats.record_live(abandoned)

    def _amend(self, at: float) -> None:
        """The live answer counted served at ``at`` was abandoned after all (never taken, or taken late)."""
        self.ledger.amend(at)
        self.stats.amend_live()

    async def _event(self, type_: str, subject: str, data: dict[str, Any]) -> None:
        await self.bus.publish(new_event(type_, subject, data, self.clock.now()))

    def live_stats(self) -> dict[str, Any]:
        now = self.clock.now()
        live, abandoned = self.ledger.totals(now)
        blocked = self.lines.blocked() if self.state is CampaignState.RUNNING else None
        return {
            "campaign": self.settings.name,
            "state": self.state.value,
            "halted": self.halted,
            "waiting": asdict(blocked) if blocked else None,  # why a running campaign dials nothing now
            "mode": self.settings.mode.value,
            "pacing": getattr(self.pacer, "last_mode", self.pacer.name),
            "ringing": len(self.ringing),
            "waiting_live": self.waiting_live,
            "answer_rate": round(self.stats.answer_rate, 4),
            "abandon_rate_window": round(abandoned / live, 4) if live else 0.0,
            "abandon_cap": self.settings.abandon_cap,
            # AMD's false positives in the window's rate (amd_false_positive_rate × MACHINE verdicts)
            "amd_false_positives": round(self.ledger.false_positive_rate * self.ledger.machines(now), 2),
            # the rate in use: the AMD audit's measured one (amd_audit.py) once it has enough verdicts, else set
            "amd_false_positive_rate": round(self.ledger.false_positive_rate, 4),
            "amd_audit": self.audit.stats(),
            "counters": dict(self.counters),
        }
