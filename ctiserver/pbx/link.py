"""The life of one link to Asterisk (an AMI TCP session or the ARI events WebSocket): an explicit state
machine and the reconnect back-off both clients share."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable


class LinkState(enum.Enum):
    IDLE = "idle"  # created, not started
    CONNECTING = "connecting"  # TCP/WebSocket being opened
    AUTHENTICATING = "authenticating"  # AMI login / ARI app registration in progress
    UP = "up"  # usable: actions/requests flow, events arrive
    DOWN = "down"  # lost; waiting for the back-off before the next attempt
    CLOSED = "closed"  # stopped for good


class IllegalTransition(RuntimeError):
    pass


_ALLOWED: dict[LinkState, frozenset[LinkState]] = {
    LinkState.IDLE: frozenset({LinkState.CONNECTING, LinkState.CLOSED}),
    LinkState.CONNECTING: frozenset(
        {LinkState.AUTHENTICATING, LinkState.UP, LinkState.DOWN, LinkState.CLOSED}
    ),
    LinkState.AUTHENTICATING: frozenset({LinkState.UP, LinkState.DOWN, LinkState.CLOSED}),
    LinkState.UP: frozenset({LinkState.DOWN, LinkState.CLOSED}),
    LinkState.DOWN: frozenset({LinkState.CONNECTING, LinkState.CLOSED}),
    LinkState.CLOSED: frozenset(),
}


class Link:
    """Current state plus a listener; ``to(state)`` raises ``IllegalTransition`` on a forbidden move."""

    def __init__(self, name: str, on_change: Callable[[LinkState, LinkState], None] | None = None) -> None:
        self.name = name
        self.state = LinkState.IDLE
        self._on_change = on_change

    def to(self, new: LinkState) -> None:
        old = self.state
        if new is old:
            return
        if new not in _ALLOWED[old]:
            raise IllegalTransition(f"{self.name}: {old.value} -> {new.value} is not allowed")
        self.state = new
        if self._on_change is not None:
            self._on_change(old, new)


class Backoff:
    """Capped exponential back-off with jitter: attempt n waits a random time in [d/2, d] where
    d = min(max, min * 2^n). ``reset()`` after a link came up."""

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        if minimum <= 0 or maximum < minimum:
            raise ValueError("backoff needs 0 < minimum <= maximum")
        self.minimum = minimum
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.minimum * (2 ** min(self.attempt, 32)))
        self.attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
