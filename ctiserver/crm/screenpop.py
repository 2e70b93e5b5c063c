"""Screen-pop: when an agent's device rings (``agent.ringing``) and again on answer (``agent.answered``),
publish ``screen.pop`` for that agent (subject = call id, ``data.agent`` = the agent), which the agent's
WebSocket subscription (``agent:<id>``) delivers. The pop carries the caller, the contact (or ``unknown``
with a create link), the last contacts, the IVR path and collected variables, the queue, the wait so far
and the CRM link.

What the pop needs about a call is gathered while the call is in the IVR/queue (per call id), so a
transfer to a second agent pops the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ctiserver.crm.model import LookupResult
from ctiserver.crm.service import CrmService, caller_number
from ctiserver.events.bus import Bus, InMemoryBus
from ctiserver.events.envelope import DomainEvent, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
ENDED_KEPT = 10_000  # ended calls remembered, oldest forgotten first
_OBSERVED = ("call.", "ivr.", "queue.", "agent.ringing", "agent.answered", "agent.offered")


@dataclass
class CallFacts:
    call_id: str
    arrived_at: float
    number: str = ""
    name: str = ""
    queue: str = ""
    queued_at: float | None = None
    ivr_path: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)


class ScreenPop:
    def __init__(self, crm: CrmService, bus: Bus) -> None:
        self.crm = crm
        self.bus = bus
        self.calls: dict[str, CallFacts] = {}
        self._crm_url = _ENV.from_string(crm.config.crm_url) if crm.config.crm_url else None
        self._create_url = _ENV.from_string(crm.config.create_url) if crm.config.create_url else None
        self.pops = 0
        # per call (forgotten with it): the pops sent, as (agent, phase, offer) — a pop goes out once — and
        # agent → seq of the latest agent.offered
        self._sent: dict[str, set[tuple[str, str, int]]] = {}
        self._offer: dict[str, dict[str, int]] = {}
        # calls ended lately: what comes after ``call.ended`` (a wrap-up's ``call.updated``, the ACD's
        # ``queue.left`` racing the hang-up) pops nothing and must not make the call's facts again — they stayed
        # for good (the soak: one per call whose agent wrapped up after it)
        self._ended: dict[str, None] = {}

    def facts(self, call_id: str, time: float) -> CallFacts:
        facts = self.calls.get(call_id)
        if facts is None:
            facts = CallFacts(call_id, time)
            if call_id not in self._ended:  # an ACD call-back made after its caller hung up: nothing to keep
                self.calls[call_id] = facts
        return facts

    def observe(self, event: DomainEvent) -> None:
        """Collect what the pop will need, as the call moves through the IVR and the queue."""
        data = event.data
        call_id = str(data.get("call_id") or event.subject)
        if event.type == "call.ended":
            self.calls.pop(call_id, None)
            self._sent.pop(call_id, None)
            self._offer.pop(call_id, None)
            self._ended[call_id] = None
            if len(self._ended) > ENDED_KEPT:
                del self._ended[next(iter(self._ended))]
            return
        if call_id in self._ended:
            return
        if event.type == "agent.offered" and data.get("agent"):
            self._offer.setdefault(call_id, {})[str(data["agent"])] = event.seq
        facts = self.facts(call_id, event.time)
        facts.number = facts.number or caller_number(data)
        facts.name = facts.name or str(data.get("caller_name") or "")
        if event.type == "ivr.step":
            node = data.get("node") or data.get("step")
            if node and (not facts.ivr_path or facts.ivr_path[-1] != node):
                facts.ivr_path.append(str(node))
        for key in ("variables", "attached"):
            value = data.get(key)
            if isinstance(value, dict):
                facts.variables.update(value)
        if event.type == "queue.entered":
            facts.queue = str(data.get("queue") or facts.queue)
            facts.queued_at = facts.queued_at or event.time

    def _key(self, event: DomainEvent) -> tuple[str, str, str, int] | None:
        agent = event.data.get("agent")
        if not agent:
            return None
        call_id = str(event.data.get("call_id") or event.subject)
        phase = "answered" if event.type == "agent.answered" else "ringing"
        return (call_id, str(agent), phase, self._offer.get(call_id, {}).get(str(agent), 0))

    def _was_sent(self, key: tuple[str, str, str, int]) -> bool:
        return key[1:] in self._sent.get(key[0], ())

    def _mark_sent(self, key: tuple[str, str, str, int]) -> None:
        self._sent.setdefault(key[0], set()).add(key[1:])

    async def pop(self, event: DomainEvent) -> DomainEvent | None:
        key = self._key(event)
        if key is None or self._was_sent(key):
            return None  # no agent, or already popped (the fast path on the PBX's ringing event)
        self._mark_sent(key)
        call_id, agent = key[0], key[1]
        facts = self.facts(call_id, event.time)
        number = caller_number(event.data) or facts.number
        result = await self.crm.result_for(call_id, number) if number else LookupResult(number="", e164=None)
        payload = self.render(facts, result, event, agent, number)
        self.pops += 1
        return await self.bus.publish(new_event("screen.pop", call_id, payload, self.crm.clock.now()))

    def pop_now(self, event: DomainEvent) -> DomainEvent | None:
        """The pop without leaving the caller's callback, when nothing has to be awaited: the lookup has
        finished and the bus is the in-process one. None when it cannot (then use ``pop``) or already done."""
        if type(self.bus) is not InMemoryBus:
            return None
        key = self._key(event)
        if key is None or self._was_sent(key):
            return None
        call_id, agent = key[0], key[1]
        facts = self.facts(call_id, event.time)
        number = caller_number(event.data) or facts.number
        result = self.crm.ready_result(call_id) if number else LookupResult(number="", e164=None)
        if result is None:
            return None
        self._mark_sent(key)
        payload = self.render(facts, result, event, agent, number)
        self.pops += 1
        return self.bus.publish_nowait(new_event("screen.pop", call_id, payload, self.crm.clock.now()))

    def render(
        self, facts: CallFacts, result: LookupResult, event: DomainEvent, agent: str, number: str
    ) -> dict[str, Any]:
        data = event.data
        contact = result.contact.model_dump(mode="json") if result.contact else None
        variables = {**facts.variables, **(data.get("attached") or {})}
        queue = str(data.get("queue") or facts.queue)
        since = facts.queued_at if facts.queued_at is not None else facts.arrived_at
        context = {"number": result.e164 or number, "contact": contact or {}, "call_id": facts.call_id}
        return {
            "agent": agent,
            "call_id": facts.call_id,
            "phase": "answered" if event.type == "agent.answered" else "ringing",
            "channel": data.get("channel"),  # the agent's leg
            "trigger_seq": event.seq,
            "trigger_time": event.time,
            "caller": {
                "number": number,
                "e164": result.e164,
                "name": str(data.get("caller_name") or facts.name),
            },
            "known": contact is not None,
            "contact": contact,
            "create_url": self._url(self._create_url, context) if contact is None else "",
            "crm_url": self._url(self._crm_url, context) if contact is not None else "",
            "history": [i.model_dump(mode="json") for i in result.history if i.call_id != facts.call_id],
            "lookup_error": result.error,
            "ivr": {"path": list(facts.ivr_path), "variables": variables},
            "queue": queue,
            "wait_seconds": round(max(0.0, event.time - since), 3),
        }

    @staticmethod
    def _url(template: Any, context: dict[str, Any]) -> str:
        if template is None:
            return ""
        try:
            return str(template.render(context))
        except TemplateError:
            log.warning("screen-pop URL template failed")
            return ""

    async def run(self) -> None:
        listeners = getattr(self.bus, "listeners", None)
        if isinstance(listeners, list):
            # facts are collected synchronously, in publish order, so the trigger queue holds only triggers
            listeners.append(self._observe_matching)
            sub = self.bus.subscribe("agent.ringing", "agent.answered")
        else:
            sub = self.bus.subscribe("call.*", "ivr.*", "queue.*", "agent.ringing", "agent.answered")
        try:
            async for event in sub:
                if not isinstance(listeners, list):
                    self.observe(event)
                try:
                    await self.pop(event)
                except Exception:
                    log.exception("screen-pop failed", call_id=event.subject)
        finally:
            sub.close()
            if isinstance(listeners, list) and self._observe_matching in listeners:
                listeners.remove(self._observe_matching)

    def _observe_matching(self, event: DomainEvent) -> None:
        if event.type.startswith(_OBSERVED):
            try:
                self.observe(event)
            except Exception:
                log.exception("screen-pop: bad event", type=event.type)
