"""The calls waiting in the ACD, by call id and by queue, with each queue's service order cached.

Each caller's announcement asks for its position; rebuilding the set of the queue's callers (or sorting the
queue) per caller was quadratic with thousands waiting. Every queue has a version, bumped when a call joins or
leaves it; a queue's order is recomputed when its version moved or after ``POSITION_TTL`` s (aging moves the
order slowly).
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, ValuesView

from ctiserver.acd.entries import Entry
from ctiserver.acd.routing import Waiting, service_order

POSITION_TTL = 1.0


class WaitingCalls:
    def __init__(self) -> None:
        self._calls: dict[str, Entry] = {}
        self._by_queue: dict[str, dict[str, Entry]] = {}
        self._version: dict[str, int] = {}
        self._order: dict[str, tuple[int, float, dict[str, int]]] = {}  # queue -> (version, at, positions)
        self._asked: dict[str, int] = {}  # queue -> the version at which a position was last counted

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[str]:
        return iter(self._calls)

    def get(self, call_id: str) -> Entry | None:
        return self._calls.get(call_id)

    def values(self) -> ValuesView[Entry]:
        return self._calls.values()

    def items(self) -> ItemsView[str, Entry]:
        return self._calls.items()

    def add(self, entry: Entry) -> None:
        old = self._calls.get(entry.call_id)
        if old is not None:
            self.pop(old.call_id)
        self._calls[entry.call_id] = entry
        self._by_queue.setdefault(entry.waiting.queue, {})[entry.call_id] = entry
        self._bump(entry.waiting.queue)

    def pop(self, call_id: str) -> Entry | None:
        entry = self._calls.pop(call_id, None)
        if entry is not None:
            for queue, members in self._by_queue.items():  # normally only the entry's queue holds it
                if members.pop(call_id, None) is not None:
                    self._bump(queue)
        return entry

    def moved(self, entry: Entry) -> None:
        """The waiting call's queue (or priority) was changed in place (overflow)."""
        if entry.call_id in self._calls:
            self.pop(entry.call_id)
            self.add(entry)

    def _bump(self, queue: str) -> None:
        self._version[queue] = self._version.get(queue, 0) + 1

    def in_queue(self, queue: str) -> list[Waiting]:
        return [e.waiting for e in self._by_queue.get(queue, {}).values()]

    def position(self, call_id: str, now: float, aging_per_minute: float) -> int:
        """1-based place in its queue's service order (0 if not waiting)."""
        entry = self._calls.get(call_id)
        if entry is None:
            return 0
        queue = entry.waiting.queue
        version = self._version.get(queue, 0)
        cached = self._order.get(queue)
        if cached is not None and cached[0] == version and now - cached[1] <= POSITION_TTL:
            return cached[2].get(call_id, 0)
        if self._asked.get(queue) != version:
            # the first question since the queue changed (typically: the caller who just joined): count the
            # callers ahead, O(waiting), instead of sorting the queue (every join changes it; with thousands
            # waiting the sort per joining caller took a quarter of the daemon's CPU at 100 calls/s)
            self._asked[queue] = version
            return self._rank(entry.waiting, queue, now, aging_per_minute)
        order = service_order(self.in_queue(queue), now, aging_per_minute)  # asked again: sort once
        cached = (version, now, {w.call_id: i for i, w in enumerate(order, start=1)})
        self._order[queue] = cached
        return cached[2].get(call_id, 0)

    def _rank(self, me: Waiting, queue: str, now: float, aging_per_minute: float) -> int:
        """1 + the callers served before ``me`` in ``service_order`` (higher effective priority, then seq)."""
        mine = me.effective_priority(now, aging_per_minute)
        ahead = 0
        for e in self._by_queue.get(queue, {}).values():
            w = e.waiting
            if w is me:
                continue
            p = w.effective_priority(now, aging_per_minute)
            if p > mine or (p == mine and w.seq < me.seq):
                ahead += 1
        return ahead + 1
