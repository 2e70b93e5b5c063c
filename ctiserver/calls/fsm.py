"""A tiny explicit state machine: an enum, a transition table, and an error for illegal moves."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar

S = TypeVar("S", bound=Enum)


class IllegalTransition(Exception):
    def __init__(self, machine: str, current: Enum, target: Enum) -> None:
        super().__init__(f"{machine}: illegal transition {current.value} -> {target.value}")
        self.current = current
        self.target = target


class Machine(Generic[S]):
    """Holds a state; ``move(target)`` raises ``IllegalTransition`` unless the table allows it."""

    __slots__ = ("name", "state", "table")

    def __init__(self, name: str, initial: S, table: Mapping[S, frozenset[S]]) -> None:
        self.name = name
        self.state = initial
        self.table = table

    def can(self, target: S) -> bool:
        return target in self.table[self.state]

    def move(self, target: S) -> None:
        if target not in self.table[self.state]:
            raise IllegalTransition(self.name, self.state, target)
        self.state = target
