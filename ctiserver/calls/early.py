"""Engine facts that arrive before the tracker knows their call.

The engine learns of a Stasis call over ARI; the tracker learns of it over AMI. The two are separate sockets with
no order between them, and under load the AMI side can run seconds behind, so an IVR step, attached data or a
queue segment may be reported for a call id the tracker has not seen yet. Such a fact is held here under the key
it was reported for and applied when a leg with that uniqueid (or a call with that id) appears. A fact whose call
never shows up (the AMI link is down, a call of another PBX) is dropped after ``max_age`` seconds, counted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class EarlyFacts(Generic[T]):
    """Held appliers by key, oldest first; ``take`` hands a key's appliers over in the order they were held."""

    def __init__(self, max_age: float = 120.0, max_keys: int = 50_000) -> None:
        self.max_age = max_age
        self.max_keys = max_keys
        self.expired = 0  # facts dropped because their call never appeared
        self._held: OrderedDict[str, tuple[float, list[Callable[[T], None]]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, key: str, apply: Callable[[T], None], now: float) -> None:
        self._expire(now)
        entry = self._held.get(key)
        if entry is None:
            self._held[key] = (now, [apply])
        else:
            entry[1].append(apply)

    def take(self, key: str) -> list[Callable[[T], None]]:
        entry = self._held.pop(key, None)
        return entry[1] if entry is not None else []

    def _expire(self, now: float) -> None:
        held = self._held
        while held:
            key, (since, appliers) = next(iter(held.items()))
            if now - since <= self.max_age and len(held) < self.max_keys:
                return
            del held[key]
            self.expired += len(appliers)
