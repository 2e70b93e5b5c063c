"""Which WebSocket sessions may want an event, without asking every session.

With thousands of agent consoles connected, testing every session's topics for every event costs O(sessions)
per event (2,000 × ~20 events per call × 100 calls/s). The index maps each topic to the sessions subscribed to
it; an event's candidates are the sessions of its agents (or of the agents its call was offered to), of its
queue, of its call and the ``all`` subscribers. Candidates are still checked with ``topics.matches``: the index
only narrows, it never decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from ctiserver.api.topics import Topic, event_agents
from ctiserver.events.envelope import DomainEvent

S = TypeVar("S")


class TopicIndex(Generic[S]):
    def __init__(self) -> None:
        self._by: dict[Topic, set[S]] = {}

    def add(self, session: S, topics: Iterable[Topic]) -> None:
        for topic in topics:
            self._by.setdefault(topic, set()).add(session)

    def remove(self, session: S, topics: Iterable[Topic]) -> None:
        for topic in topics:
            members = self._by.get(topic)
            if members is not None:
                members.discard(session)
                if not members:
                    del self._by[topic]

    def candidates(self, event: DomainEvent, call_agents: Mapping[str, set[str]]) -> set[S]:
        by = self._by
        out: set[S] = set()
        for topic in self._topics_of(event, call_agents):
            members = by.get(topic)
            if members:
                out.update(members)
        return out

    @staticmethod
    def _topics_of(event: DomainEvent, call_agents: Mapping[str, set[str]]) -> list[Topic]:
        topics = [Topic("all"), Topic("call", event.subject)]
        queue = event.data.get("queue")
        if queue:
            topics.append(Topic("queue", str(queue)))
        agents = event_agents(event) or call_agents.get(event.subject) or set()
        topics.extend(Topic("agent", a) for a in agents)
        return topics
