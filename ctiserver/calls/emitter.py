"""Collects the domain events a tracker step produces (the tracker core does no I/O: it returns them)."""

from __future__ import annotations

from typing import Any

from ctiserver.events.envelope import DomainEvent, new_event

SOURCE = "ctiserver/calls"


class Emitter:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: list[DomainEvent] = []

    def emit(self, type_: str, subject: str, data: dict[str, Any], at: float) -> None:
        self.out.append(new_event(type_, subject, data, at, source=SOURCE))

    def take(self) -> list[DomainEvent]:
        out, self.out = self.out, []
        return out
