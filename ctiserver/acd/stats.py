"""The ACD's own per-queue counts and live averages (AHT, ASA) — the numbers EWT is computed from and the ones
the tracker's queue KPIs are checked against."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class QueueStats:
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    timeout: int = 0
    callbacks_requested: int = 0
    callbacks_connected: int = 0
    callbacks_failed: int = 0
    overflowed: int = 0
    transferred: int = 0
    rona: int = 0
    relaxed_answers: int = 0
    _handle: deque[float] = field(default_factory=lambda: deque(maxlen=100))
    _answer: deque[float] = field(default_factory=lambda: deque(maxlen=100))
    default_aht: float = 180.0

    def handled(self, seconds: float) -> None:
        self._handle.append(seconds)

    def waited(self, seconds: float) -> None:
        self._answer.append(seconds)

    @property
    def aht(self) -> float:
        return sum(self._handle) / len(self._handle) if self._handle else self.default_aht

    @property
    def asa(self) -> float | None:
        return sum(self._answer) / len(self._answer) if self._answer else None

    def to_json(self) -> dict[str, object]:
        return {
            "entered": self.entered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "timeout": self.timeout,
            "callbacks_requested": self.callbacks_requested,
            "callbacks_connected": self.callbacks_connected,
            "callbacks_failed": self.callbacks_failed,
            "overflowed": self.overflowed,
            "transferred": self.transferred,
            "rona": self.rona,
            "relaxed_answers": self.relaxed_answers,
            "aht": round(self.aht, 3),
            "asa": None if self.asa is None else round(self.asa, 3),
        }
