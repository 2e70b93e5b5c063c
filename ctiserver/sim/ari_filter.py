"""The event filter of an ARI application (``PUT /applications/{name}/eventFilter``, Asterisk 13.26+ / 16.3+).

Rules, as the swagger states them: an empty body empties both lists; a list given replaces that list, the other
is kept; an empty ``allowed`` list allows everything; ``disallowed`` wins over ``allowed``. The hub applies the
filter to every event it sends to that application's WebSockets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventFilter:
    allowed: frozenset[str] = frozenset()
    disallowed: frozenset[str] = frozenset()

    def passes(self, event_type: str) -> bool:
        if event_type in self.disallowed:
            return False
        return not self.allowed or event_type in self.allowed

    def as_json(self) -> dict[str, list[dict[str, str]]]:
        return {
            "events_allowed": [{"type": t} for t in sorted(self.allowed)],
            "events_disallowed": [{"type": t} for t in sorted(self.disallowed)],
        }


def _types(value: object) -> frozenset[str]:
    if not isinstance(value, list):
        raise ValueError("must be an array")
    types = [item.get("type") if isinstance(item, dict) else None for item in value]
    if not all(isinstance(t, str) and t for t in types):
        raise ValueError('every item needs a "type"')
    return frozenset(str(t) for t in types)


def updated(current: EventFilter, body: object) -> EventFilter:
    """The filter after a PUT with ``body`` (None: an empty body). ``ValueError`` for a bad body."""
    if body is None or body == {}:
        return EventFilter()
    if not isinstance(body, dict):
        raise ValueError("the body must be an object")
    allowed = _types(body["allowed"]) if "allowed" in body else current.allowed
    disallowed = _types(body["disallowed"]) if "disallowed" in body else current.disallowed
    return EventFilter(allowed, disallowed)
