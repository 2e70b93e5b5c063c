"""Automatic call-backs for abandoned inbound calls (seed 001: "call-backs under central control").

Watches the bus: ``call.created`` / ``queue.entered`` (who is calling), ``queue.left`` (how a queue stay ended).
An abandoned caller who waited at least ``min_wait`` s gets one call-back in the call-back campaign, ``delay`` s
later, inside the caller's calling window (the campaign's), after the DNC check — and only if they did not get
through in the meantime: a new call from the number that reaches an agent (``queue.left`` answered) cancels it;
one given up again leaves the one call-back pending as it is (once), and so does one that never reaches a
queue (a caller who hangs up on the greeting still wants the call). A call-back not placed within
``within_minutes`` of the abandon expires. Each placed call-back is an attempt of the campaign like any other
(a leg with an outcome, ``dialer.attempt``); ``callback.scheduled`` / ``callback.cancelled`` /
``callback.expired`` track the rest.

What is pending lives in the store, not only here: the call-back's contact carries ``abandoned_at`` (when the
caller gave up, ISO 8601 UTC; shown on the screen-pop), and a restarted daemon reads the pending ones back
before it follows the bus — their deadlines, the "once" rule and the cancel hold across restarts (before, a
call-back scheduled by an earlier run never expired and was placed even after the caller had got through).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ctiserver.dialer.campaign_state import CampaignState
from ctiserver.dialer.model import ContactStatus
from ctiserver.dialer.numbers import BadNumber, to_e164
from ctiserver.dialer.service import DialerService
from ctiserver.events import Bus, DomainEvent, new_event
from ctiserver.events.queue_left import queue_wait
from ctiserver.logs import get_logger

log = get_logger(__name__)
NUMBERS_KEPT = 50_000  # callers remembered (call id → number), oldest forgotten first
PENDING_READ = 100_000  # pending call-backs read back at start


class AbandonedCallbackConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    campaign: str = "callbacks"  # the campaign that dials them (its windows, retries, agents)
    min_wait: float = Field(5.0, ge=0)  # ignore callers who hung up at once
    delay: float = Field(60.0, ge=0)
    within_minutes: float = Field(60.0, gt=0)
    queues: tuple[str, ...] = ()  # empty: every queue

    @model_validator(mode="after")
    def _due_before_its_deadline(self) -> AbandonedCallbackConfig:
        if self.delay >= self.within_minutes * 60.0:
            raise ValueError(
                f"delay ({self.delay:g} s) must be shorter than within_minutes ({self.within_minutes:g} min): "
                "every call-back would expire before it is due"
            )
        return self


class AbandonedCallbacks:
    def __init__(self, service: DialerService, bus: Bus, config: AbandonedCallbackConfig) -> None:
        self.service = service
        self.bus = bus
        self.config = config
        self._numbers: dict[str, str] = {}  # call id → caller number
        self._scheduled: dict[str, tuple[str, float]] = {}  # number → (contact id, deadline)
        self.scheduled = 0
        self.cancelled = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        sub = self.bus.subscribe("call.created", "queue.entered", "queue.left")
        try:
            await self.load()
            async for event in sub:
                try:
                    await self.handle(event)
                except Exception:
                    log.exception("abandoned call-back: event handling failed", type=event.type)
        finally:
            sub.close()
            for task in self._tasks:
                task.cancel()

    async def load(self) -> None:
        """The call-backs for abandoned calls an earlier run scheduled and nobody placed or cancelled yet."""
        pending = await self.service.store.callbacks([self.config.campaign], None, PENDING_READ)
        now = self.service.clock.now()
        for contact in pending:
            if "abandoned_call" not in contact.fields:
                continue  # an agent's call-back: no deadline, never cancelled by a call
            try:
                since = datetime.fromisoformat(contact.fields["abandoned_at"]).timestamp()
            except (KeyError, ValueError):
                since = now  # scheduled before ``abandoned_at`` was kept: the whole time from now
            self._track(contact.number, contact.id, since + self.config.within_minutes * 60.0, now)
        if pending:
            log.info("abandoned call-backs pending", count=len(self._scheduled))

    async def handle(self, event: DomainEvent) -> None:
        data = event.data
        call_id = str(data.get("call_id") or event.subject)
        if event.type == "call.created":
            number = str(data.get("caller_num") or "")
            if number and data.get("direction", "in") != "out":
                self._numbers[call_id] = number
        elif data.get("outbound"):
            return  # a dialler's call (a call-back among them) in the ACD's queue: no caller of ours
        elif event.type == "queue.entered":
            attached = data.get("attached") or {}
            number = str(attached.get("caller_number") or attached.get("number") or "")
            if number:
                self._numbers.setdefault(call_id, number)
        elif event.type == "queue.left" and data.get("outcome") == "abandoned":
            await self._abandoned(call_id, str(data.get("queue") or ""), queue_wait(data) or 0.0)
        elif event.type == "queue.left" and data.get("outcome") == "answered" and call_id in self._numbers:
            await self._got_through(self._numbers[call_id])
        while len(self._numbers) > NUMBERS_KEPT:
            del self._numbers[next(iter(self._numbers))]

    async def _abandoned(self, call_id: str, queue: str, waited: float) -> None:
        cfg = self.config
        number = self._numbers.get(call_id)
        if number is None or waited < cfg.min_wait or (cfg.queues and queue not in cfg.queues):
            return
        if cfg.campaign not in self.service.runners:
            log.warning("no call-back campaign", campaign=cfg.campaign)
            return
        runner = self.service.runner(cfg.campaign)
        try:
            e164 = to_e164(number, runner.settings.region)
        except BadNumber:
            return  # an anonymous or internal caller cannot be called back
        if runner.state in (CampaignState.DRAFT, CampaignState.STOPPED):  # (paused: on purpose, no warning)
            log.warning("call-back campaign not started: call-backs wait", campaign=cfg.campaign, state=runner.state)
        now = self.service.clock.now()
        existing = self._scheduled.get(e164)
        if existing is not None and existing[1] > now:
            return  # once
        contact = await self.service.schedule_callback(
            cfg.campaign,
            e164,
            now + cfg.delay,
            fields={
                "queue": queue,
                "abandoned_call": call_id,
                "abandoned_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                "waited": f"{waited:.0f}",
            },
            source="abandoned",
        )
        self.scheduled += 1
        self._track(e164, contact.id, now + cfg.within_minutes * 60.0, now)

    def _track(self, e164: str, contact_id: str, deadline: float, now: float) -> None:
        self._scheduled[e164] = (contact_id, deadline)
        task = asyncio.get_running_loop().create_task(self._expire(e164, contact_id, max(0.0, deadline - now)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _got_through(self, number: str) -> None:
        """The caller reached an agent on a call of their own: their pending call-back is not wanted any more. The
        number is read as the abandon's was (``to_e164`` in the call-back campaign's region), so ``030 1000042``
        and ``+49 30 1000042`` are one caller: one look-up, on every answered call."""
        runner = self.service.runners.get(self.config.campaign)
        if runner is None:
            return
        try:
            e164 = to_e164(number, runner.settings.region)
        except BadNumber:
            return
        pending = self._scheduled.pop(e164, None)
        if pending is not None and await self.service.cancel_callback(self.config.campaign, pending[0], "called again"):
            self.cancelled += 1

    async def _expire(self, e164: str, contact_id: str, after: float) -> None:
        await self.service.clock.sleep(after)
        if self._scheduled.get(e164, ("", 0.0))[0] == contact_id:
            del self._scheduled[e164]  # its time is over: a new abandon may have a call-back again
        store = self.service.store
        contact = await store.get_contact(self.config.campaign, contact_id)
        if contact is not None and contact.status is ContactStatus.CALLBACK:
            await self.service.cancel_callback(self.config.campaign, contact_id, "expired")
            await self.bus.publish(
                new_event(
                    "callback.expired",
                    contact_id,
                    {"campaign": self.config.campaign},
                    self.service.clock.now(),
                )
            )
