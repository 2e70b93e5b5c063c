"""Caller identification: lookups start when a call arrives (``call.created``; the IVR may also ask through
``ContactLookup``), never on the ring path; the screen-pop only collects the finished result. The service also
keeps the history of previous contacts (one interaction per call) from the domain events and dispositions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.clock import Clock
from ctiserver.crm.history_writer import InteractionWriter
from ctiserver.crm.http_adapter import HttpCrmAdapter, HttpCrmConfig
from ctiserver.crm.model import Contact, CrmUnavailable, Interaction, LookupResult
from ctiserver.crm.phone import normalise
from ctiserver.crm.store import ContactStore
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import DomainEvent, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


class CrmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_region: str | None = None  # None: the top-level ``default_region``
    history_limit: int = Field(5, ge=0, le=100)
    pop_wait: float = Field(0.5, ge=0, description="how long a pop may wait for a lookup still running")
    max_concurrent_lookups: int = Field(8, ge=1, description="bounds the CRM's share of the DB pool")
    crm_url: str = ""  # Jinja2: "https://crm.example/contacts/{{ contact.id }}"
    create_url: str = "/contacts/new?phone={{ number | urlencode }}"
    http: HttpCrmConfig | None = None
    keep_after_end: float = 60.0


def caller_number(data: Mapping[str, Any]) -> str:
    for key in ("caller_number", "caller_num", "caller_id_num", "from_number", "callerid", "caller", "from"):
        value = data.get(key)
        if isinstance(value, Mapping):
            value = value.get("number")
        if value:
            return str(value)
    return ""


class CrmService:
    def __init__(
        self,
        store: ContactStore,
        bus: Bus,
        clock: Clock,
        config: CrmConfig,
        default_region: str = "US",
        http: HttpCrmAdapter | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.config = config
        self.region = config.default_region or default_region
        self.http = http
        self._lookups: dict[str, asyncio.Task[LookupResult]] = {}
        self._slots = asyncio.Semaphore(config.max_concurrent_lookups)
        self.lookups_started = 0
        self.history = InteractionWriter(store, clock)

    # -- lookups
    async def lookup(self, number: str, **extra: Any) -> LookupResult:
        e164 = normalise(number, self.region)
        if e164 is None:
            return LookupResult(number=number, e164=None)
        error = ""
        limit = self.config.history_limit
        if self.http is None:  # the built-in store alone: one lookup
            contact, found = await self.store.find_with_history(e164, limit)
            return LookupResult(number=number, e164=e164, contact=contact, history=tuple(found))
        contact = await self.store.find_by_phone(e164)
        if contact is None:
            try:
                contact = await self.http.lookup(e164, **extra)
            except CrmUnavailable as exc:
                error = str(exc)
        phones = list(contact.phones) if contact and contact.source == "builtin" else [e164]
        history = await self.store.history(phones, limit) if limit else []
        return LookupResult(number=number, e164=e164, contact=contact, history=tuple(history), error=error)

    async def lookup_contact(self, number: str) -> Contact | None:
        """The IVR's ``ContactLookup``: the contact for a caller number (None when unknown)."""
        return (await self.lookup(number)).contact

    def start_lookup(self, call_id: str, number: str) -> asyncio.Task[LookupResult]:
        task = self._lookups.get(call_id)
        if task is None:
            self.lookups_started += 1
            task = asyncio.get_running_loop().create_task(
                self._safe_lookup(number), name=f"cti:lookup:{call_id}"
            )
            self._lookups[call_id] = task
        return task

    async def _safe_lookup(self, number: str) -> LookupResult:
        try:
            async with self._slots:
                return await self.lookup(number)
        except Exception as exc:  # a store/CRM failure must not break the pop
            log.exception("contact lookup failed")
            return LookupResult(number=number, e164=normalise(number, self.region), error=type(exc).__name__)

    def ready_result(self, call_id: str) -> LookupResult | None:
        """The lookup's result if it has finished (the usual case by the time the agent's phone rings)."""
        task = self._lookups.get(call_id)
        if task is None or not task.done() or task.cancelled():
            return None
        return task.result()

    async def result_for(self, call_id: str, number: str) -> LookupResult:
        task = self.start_lookup(call_id, number)
        if task.done() and not task.cancelled():
            return task.result()
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.config.pop_wait)
        except TimeoutError:
            return LookupResult(
                number=number, e164=normalise(number, self.region), error="lookup still running"
            )

    # -- history
    async def disposition(self, call_id: str, code: str, notes: str, agent: str | None) -> Interaction:
        await self.history.flush()
        old = await self.store.interaction(call_id)
        base = old or Interaction(call_id=call_id, started_at=self.clock.now())
        update: dict[str, Any] = {"disposition": code, "notes": notes}
        if agent and not base.agent:
            update["agent"] = agent
        await self.store.record(base.model_copy(update=update))
        await self.bus.publish(
            new_event(
                "call.disposition",
                call_id,
                {"code": code, "notes": notes, "agent": agent or base.agent},
                self.clock.now(),
            )
        )
        result = await self.store.interaction(call_id)
        assert result is not None
        return result

    async def _push(self, event: DomainEvent) -> None:
        if self.http is None or event.type not in self.http.config.push_events:
            return
        task = self._lookups.get(str(event.data.get("call_id") or event.subject))
        result = None
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                result = await asyncio.wait_for(asyncio.shield(task), self.config.pop_wait)
        contact = result.contact.model_dump(mode="json") if result is not None and result.contact else None
        await self.http.push(event.to_json(), contact)

    async def on_event(self, event: DomainEvent) -> None:
        await self._push(event)
        data = event.data
        call_id = str(data.get("call_id") or event.subject)
        kind = event.type
        if kind in ("call.created", "queue.entered", "agent.offered", "agent.ringing"):
            number = caller_number(data)
            if number and call_id not in self._lookups:
                self.start_lookup(call_id, number)
        fields: dict[str, Any] = {}
        if kind == "call.created":
            number = caller_number(data)
            fields = {
                "number": normalise(number, self.region) or number,
                "direction": data.get("direction", ""),
            }
        elif kind == "queue.entered":
            fields = {"queue": str(data.get("queue") or "")}
        elif kind == "agent.answered":
            fields = {"agent": str(data.get("agent") or ""), "outcome": "answered"}
        elif kind == "recording.ready":
            fields = {"recording": str(data.get("name") or data.get("recording") or "")}
        elif kind == "call.ended":
            fields = {"duration": float(data.get("duration") or 0.0)}
            old = await self.history.interaction(call_id)
            if old is None or not old.outcome:
                fields["outcome"] = str(
                    data.get("outcome") or ("abandoned" if old and old.queue else "ended")
                )
            asyncio.get_running_loop().call_later(
                self.config.keep_after_end, self._lookups.pop, call_id, None
            )
        else:
            return
        clean = {k: v for k, v in fields.items() if v not in ("", None)}
        if kind == "call.created" or await self.history.interaction(call_id) is not None:
            self.history.record(
                Interaction(call_id=call_id, started_at=event.time, **clean), last=kind == "call.ended"
            )

    def _start_early(self, event: DomainEvent) -> None:
        """Bus listener: start the lookup the moment the call is announced (before any queueing/ringing)."""
        if event.type in ("call.created", "queue.entered", "agent.offered", "agent.ringing"):
            number = caller_number(event.data)
            call_id = str(event.data.get("call_id") or event.subject)
            if number and call_id not in self._lookups:
                self.start_lookup(call_id, number)

    async def run(self) -> None:
        listeners = getattr(self.bus, "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self._start_early)
        sub = self.bus.subscribe(
            "call.*", "queue.entered", "agent.offered", "agent.ringing", "agent.answered", "recording.ready"
        )
        try:
            async for event in sub:
                try:
                    await self.on_event(event)
                except Exception:
                    log.exception("crm: event handling failed", type=event.type)
        finally:
            sub.close()
            await self.history.flush()
            for task in self._lookups.values():
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._lookups.values(), return_exceptions=True)
