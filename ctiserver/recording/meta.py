"""Recording metadata (one row per recorded conversation) and where it is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol


class RecState(StrEnum):
    RECORDING = "recording"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    PURGED = "purged"


TRANSITIONS: dict[RecState, frozenset[RecState]] = {
    RecState.RECORDING: frozenset({RecState.PAUSED, RecState.DONE, RecState.FAILED}),
    RecState.PAUSED: frozenset({RecState.RECORDING, RecState.DONE, RecState.FAILED}),
    RecState.DONE: frozenset({RecState.PURGED}),
    RecState.FAILED: frozenset({RecState.PURGED}),
    RecState.PURGED: frozenset(),
}


class IllegalRecordingTransition(Exception):
    def __init__(self, name: str, src: RecState, dst: RecState) -> None:
        super().__init__(f"recording {name}: cannot go from {src.value} to {dst.value}")
        self.src, self.dst = src, dst


@dataclass(frozen=True, slots=True)
class Pause:
    by: str
    at: float
    resumed_at: float | None = None
    resumed_by: str | None = None


@dataclass(frozen=True, slots=True)
class RecordingMeta:
    name: str  # "<call id>-<n>": the file is <directory>/<name>.<format>
    call_id: str
    queue: str | None
    agent: str | None
    target: str  # "bridge:<id>" or "channel:<id>"
    path: str
    format: str
    started_at: float
    state: RecState = RecState.RECORDING
    ended_at: float | None = None
    duration: float | None = None  # seconds of audio in the file
    size: int | None = None  # bytes
    pauses: tuple[Pause, ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> RecordingMeta:
        dst = changes.get("state")
        if dst is not None and dst is not self.state and dst not in TRANSITIONS[self.state]:
            raise IllegalRecordingTransition(self.name, self.state, dst)
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "call_id": self.call_id,
            "queue": self.queue,
            "agent": self.agent,
            "target": self.target,
            "path": self.path,
            "format": self.format,
            "state": self.state.value,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "size": self.size,
            "pauses": [
                {"by": p.by, "at": p.at, "resumed_at": p.resumed_at, "resumed_by": p.resumed_by}
                for p in self.pauses
            ],
        }


class RecordingStore(Protocol):
    async def save(self, meta: RecordingMeta) -> None:
        """Insert or replace the row for ``meta.name``."""
        ...

    async def get(self, name: str) -> RecordingMeta | None: ...

    async def for_call(self, call_id: str) -> Sequence[RecordingMeta]: ...

    async def count_for_call(self, call_id: str) -> int:
        """How many recordings the call has had (a new one's number follows them)."""
        ...

    async def older_than(self, started_before: float, queue: str | None) -> Sequence[RecordingMeta]:
        """Rows not yet purged that started before the given time, for one queue (None: rows of no queue)."""
        ...

    async def queues(self) -> Sequence[str | None]:
        """Queues that have rows."""
        ...

    async def live(self) -> Sequence[RecordingMeta]:
        """Rows still ``recording`` or ``paused`` (a daemon that stopped left them so)."""
        ...


class MemoryRecordingStore:
    def __init__(self) -> None:
        self.rows: dict[str, RecordingMeta] = {}

    async def save(self, meta: RecordingMeta) -> None:
        self.rows[meta.name] = meta

    async def get(self, name: str) -> RecordingMeta | None:
        return self.rows.get(name)

    async def for_call(self, call_id: str) -> Sequence[RecordingMeta]:
        return sorted((m for m in self.rows.values() if m.call_id == call_id), key=lambda m: m.started_at)

    async def count_for_call(self, call_id: str) -> int:
        return sum(1 for m in self.rows.values() if m.call_id == call_id)

    async def older_than(self, started_before: float, queue: str | None) -> Sequence[RecordingMeta]:
        return [
            m
            for m in self.rows.values()
            if m.queue == queue and m.started_at < started_before and m.state is not RecState.PURGED
        ]

    async def queues(self) -> Sequence[str | None]:
        return sorted({m.queue for m in self.rows.values()}, key=lambda q: q or "")

    async def live(self) -> Sequence[RecordingMeta]:
        return [m for m in self.rows.values() if m.state in (RecState.RECORDING, RecState.PAUSED)]
