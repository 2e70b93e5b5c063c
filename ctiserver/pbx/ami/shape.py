"""Shared key sequences ("shapes") of AMI frames, and the header-line representation messages use.

A message keeps its headers as the lines ``Key: value`` as received (one string each, split from the frame in
one C call) plus a shared ``_Shape``: the keys in wire order, interned, their lower-case forms, and the index
``key as sent | key.lower() -> line of the first header with that key``. A value is the tail of its line
after ``Key: `` (``offsets``), cut on first use. Events of one kind carry the same keys in the same order, so a
shape is built once per distinct key sequence; the codec finds it again from the frame's first line
(``Event: Newchannel``) and the line count, then proves that every line starts with ``Key: `` (``uppers``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

_intern = sys.intern


class _LowerCache(dict[str, str]):
    """key -> key.lower() for the few hundred header names AMI uses: a dict hit allocates nothing, where
    ``str.lower`` builds a new string every time. Bounded: odd keys from the wire cannot grow it forever."""

    def __missing__(self, key: str) -> str:
        low = key.lower()
        if len(self) < 4096:
            self[key] = low
        return low


lower = _LowerCache().__getitem__


class Shape:
    """The key sequence of a frame: interned keys in wire order, their lower-case forms, the index ``key as
    sent | key.lower() -> position of the first header with that key, in any case``, and for each line the
    prefix ``Key: `` and the offset of the value. ``name`` is the event name when every frame of this shape
    has the same first line (shapes the codec's fast path keeps per first line), else ``None``."""

    __slots__ = ("event", "index", "keys", "lower", "n", "name", "offsets", "prefixes", "tails", "uppers")

    def __init__(self, keys: Iterable[str], name: str | None = None) -> None:
        self.keys: tuple[str, ...] = tuple(map(_intern, keys))
        self.lower: tuple[str, ...] = tuple(map(lower, self.keys))
        self.n = len(self.keys)
        self.event = self.n > 0 and self.keys[0] == "Event"
        self.name = name
        self.prefixes: list[str] = [key + ": " for key in self.keys]
        # A line starts with "Key: " exactly when "Key: " <= line < "Key:!" (the next string after every
        # string that starts with "Key: "): two plain comparisons, far cheaper than str.startswith's
        # argument parsing when done for every line of every event (see codec._events).
        self.uppers: list[str] = [key + ":!" for key in self.keys]
        self.offsets: tuple[int, ...] = tuple(len(key) + 2 for key in self.keys)
        self.tails: tuple[slice, ...] = tuple(slice(offset, None) for offset in self.offsets)  # line -> value
        index: dict[str, int] = {}
        # backwards, so that the first header of a repeated key (in any spelling) wins
        for i in range(self.n - 1, -1, -1):
            index[self.lower[i]] = i
        for key, low in zip(self.keys, self.lower, strict=True):
            index[key] = index[low]  # the spelling as sent, found without lower-casing
        self.index = index


EMPTY = Shape(())

# "\n".join(keys) -> shape. Bounded: a few hundred shapes on a real PBX; a peer sending endless new key sets
# only makes the cache start over. Frames with very long key lists get a shape of their own, not cached.
_SHAPES: dict[str, Shape] = {}
_MAX_SHAPES = 2048
_MAX_SHAPE_KEYS = 4096  # characters of joined keys


def shape_of(keys: Sequence[str]) -> Shape:
    """The shared shape of ``keys``."""
    if not keys:
        return EMPTY
    joined = "\n".join(keys)
    if joined.count("\n") != len(keys) - 1:
        return Shape(keys)  # a key built in code holds a line break: joining would be ambiguous
    shape = _SHAPES.get(joined)
    if shape is None:
        shape = Shape(keys)
        if len(joined) <= _MAX_SHAPE_KEYS:
            if len(_SHAPES) >= _MAX_SHAPES:
                _SHAPES.clear()
            _SHAPES[joined] = shape
    return shape


# The codec's fast path: first line of an event frame ("Event: Newchannel") -> its known shapes (one per key
# sequence seen with that first line). Bounded like _SHAPES.
KINDS: dict[str, list[Shape]] = {}
_MAX_KINDS = 2048
_MAX_KIND_SHAPES = 16


def learn_kind(lines: list[str]) -> Shape | None:
    """The shape of an event frame's ``lines`` (each must hold ``": "``), remembered under its first line for
    the fast path; ``None`` if a line has no ``": "`` or the frame is not an event."""
    keys = []
    for line in lines:
        key, sep, _ = line.partition(": ")
        if not sep:
            return None
        keys.append(key)
    if keys[0] != "Event":
        return None
    shape = Shape(keys, _intern(lines[0][7:]))
    first = lines[0]
    if len(first) <= _MAX_SHAPE_KEYS:
        if len(KINDS) >= _MAX_KINDS:
            KINDS.clear()
        known = KINDS.setdefault(first, [])
        if len(known) >= _MAX_KIND_SHAPES:
            known.clear()
        known.insert(0, shape)
    return shape


def lines_of(pairs: Iterable[tuple[str, str]]) -> tuple[list[str], Shape]:
    """Header lines and shape of (key, value) pairs (messages built in code, and the frame path)."""
    keys: list[str] = []
    lines: list[str] = []
    for key, value in pairs:
        keys.append(key)
        lines.append(f"{key}: {value}")
    return lines, shape_of(keys)
