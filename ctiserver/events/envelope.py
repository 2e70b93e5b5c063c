"""The event envelope (CloudEvents-like). ``seq`` is assigned by the bus when the event is published."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"


class _Ids:
    """Event ids: 32 hex digits, a random 64-bit prefix per process (and per fork) then a counter. As unique as
    ``uuid4().hex`` where it matters (across daemons sharing a feed, across restarts) without reading
    ``os.urandom`` for each of the ~40 events of every call."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFFFFFFFFFF:016x}"


new_id = _Ids()


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str  # "call.created", "agent.offered", "ivr.step", ...
    subject: str  # the call id (or agent id for agent.* events)
    data: Mapping[str, Any]
    time: float
    source: str = "ctiserver"
    id: str = field(default_factory=new_id)
    seq: int = 0
    specversion: str = SCHEMA_VERSION

    def with_seq(self, seq: int) -> DomainEvent:
        # the constructor, not dataclasses.replace (which inspects the fields each time: every event pays it)
        return DomainEvent(self.type, self.subject, self.data, self.time, self.source, self.id, seq, self.specversion)

    def to_json(self) -> dict[str, Any]:
        return {
            "specversion": self.specversion,
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time,
            "seq": self.seq,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> DomainEvent:
        return cls(
            type=str(obj["type"]),
            subject=str(obj["subject"]),
            data=dict(obj.get("data") or {}),
            time=float(obj["time"]),
            source=str(obj.get("source", "ctiserver")),
            id=str(obj["id"]),
            seq=int(obj.get("seq", 0)),
            specversion=str(obj.get("specversion", SCHEMA_VERSION)),
        )


def new_event(type: str, subject: str, data: Mapping[str, Any], time: float, source: str = "ctiserver") -> DomainEvent:
    return DomainEvent(type=type, subject=subject, data=data, time=time, source=source)
