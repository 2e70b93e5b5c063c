"""WebSocket subscription topics and who may use them.

``agent:<id>`` (that agent's pops, offers and state — an agent token may subscribe only to its own),
``queue:<name>`` (events of calls in that queue), ``call:<id>`` (one call), ``all`` (everything). Staff and
CRM tokens may subscribe to any topic; agents to their own agent topic and to calls they handle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ctiserver.api.auth import Principal, Role
from ctiserver.events.envelope import DomainEvent


@dataclass(frozen=True, slots=True)
class Topic:
    kind: str  # agent | queue | call | all
    value: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "all" else f"{self.kind}:{self.value}"


def parse_topic(text: str) -> Topic:
    text = text.strip()
    if text == "all":
        return Topic("all")
    kind, sep, value = text.partition(":")
    if not sep or kind not in ("agent", "queue", "call") or not value or len(value) > 128:
        raise ValueError(f"unknown topic {text!r} (use agent:<id>, queue:<name>, call:<id> or all)")
    return Topic(kind, value)


def may_subscribe(principal: Principal, topic: Topic) -> bool:
    if principal.role is not Role.AGENT:
        return True
    return topic.kind == "agent" and topic.value == principal.agent


def event_agents(event: DomainEvent) -> set[str]:
    data = event.data
    keys = ("agent", "agent_id", "from_agent", "to_agent")  # a transfer concerns both of its agents
    agents = {str(data[k]) for k in keys if data.get(k)}
    if event.type.startswith("agent.") and event.subject and not agents:
        agents.add(event.subject)
    return agents


def matches(topic: Topic, event: DomainEvent, call_agents: Mapping[str, set[str]] | None = None) -> bool:
    """Does ``event`` belong to ``topic``? ``call_agents`` (call id → agents offered it) lets an agent's topic
    also carry the events of the calls it handles (``call.ended``, ``call.transferred``, ...)."""
    if topic.kind == "all":
        return True
    if topic.kind == "agent":
        agents = event_agents(event)
        if agents:  # an event about agents goes to those agents only (another agent's pop is not yours)
            return topic.value in agents
        return call_agents is not None and topic.value in call_agents.get(event.subject, ())
    if topic.kind == "queue":
        return str(event.data.get("queue") or "") == topic.value
    return event.subject == topic.value
