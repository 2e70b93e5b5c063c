"""A small TTL cache with negative caching (a miss is remembered for a shorter time)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from ctiserver.clock import Clock

V = TypeVar("V")

_MISSING = object()


@dataclass(frozen=True, slots=True)
class CacheHit(Generic[V]):
    value: V | None  # None = a cached negative answer ("not found")


class TtlCache(Generic[V]):
    def __init__(
        self, clock: Clock, ttl: float = 300.0, negative_ttl: float = 60.0, max_entries: int = 50_000
    ) -> None:
        self._clock = clock
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, V | None]] = OrderedDict()

    def get(self, key: str) -> CacheHit[V] | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if self._clock.monotonic() >= expires:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return CacheHit(value)

    def put(self, key: str, value: V | None) -> None:
        ttl = self.ttl if value is not None else self.negative_ttl
        if ttl <= 0:
            return
        self._data[key] = (self._clock.monotonic() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def invalidate(self, key: str) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)
