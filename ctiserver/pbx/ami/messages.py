"""Immutable, typed AMI messages — what the sans-I/O codec produces and the client hands out.

Header lookups are case-insensitive (Asterisk spells ``Uniqueid``/``UniqueID`` differently across events)
and return the first value; ``get_all`` returns every value of a repeated header (``ChanVariable``...).
``headers`` keeps every (key, value) pair in wire order, keys as sent.

Performance: a message holds its (key, value) pairs plus a shared ``_Shape``: the sequence of its keys,
interned, with the case-insensitive index ``key or key.lower() -> position of the first pair with that key``.
Events of one kind carry the same keys in the same order, so a shape (and its index) is built once per
distinct key sequence and found again with one dict lookup on the joined keys; a lookup is then two dict
probes at most, whatever the spelling. The codec splits a whole read of plain events in a few C calls
(``codec._events``) and hands each event its slice of the pairs; other frames come as frame text, split on
first use (``name`` reads the first line only). bench/ami_ingest.py measures it against panoramisk.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, NoReturn, TypeVar

_M = TypeVar("_M", bound="AmiMessage")
_set = object.__setattr__
_intern = sys.intern


class _LowerCache(dict[str, str]):
    """key -> key.lower() for the few hundred header names AMI uses: a dict hit allocates nothing, where
    ``str.lower`` builds a new string every time. Bounded: odd keys from the wire cannot grow it forever."""

    def __missing__(self, key: str) -> str:
        low = key.lower()
        if len(self) < 4096:
            self[key] = low
        return low


_lower = _LowerCache().__getitem__


class _Shape:
    """The key sequence of a frame: interned keys in wire order, their lower-case forms, and the index
    ``key as sent | key.lower() -> position of the first (key, value) pair with that key, in any case``."""

    __slots__ = ("event", "index", "keys", "lower", "n")

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys: tuple[str, ...] = tuple(map(_intern, keys))
        self.lower: tuple[str, ...] = tuple(map(_lower, self.keys))
        self.n = len(self.keys)
        self.event = self.n > 0 and self.keys[0] == "Event"  # what the codec's fast path accepts
        index: dict[str, int] = {}
        # backwards, so that the first pair of a repeated key (in any spelling) wins
        for i in range(self.n - 1, -1, -1):
            index[self.lower[i]] = i
        for key, low in zip(self.keys, self.lower, strict=True):
            index[key] = index[low]  # the spelling as sent, found without lower-casing
        self.index = index


# "\n".join(keys) -> shape. Bounded: a few hundred shapes on a real PBX; a peer sending endless new key sets
# only makes the cache start over. Frames with very long key lists get a shape of their own, not cached.
_SHAPES: dict[str, _Shape] = {}
_MAX_SHAPES = 2048
_MAX_SHAPE_KEYS = 4096  # characters of joined keys


def _shape_of_joined(joined: str) -> _Shape:
    """Shape of a frame whose keys (none holding a line break: they come from split lines) are ``joined``."""
    shape = _SHAPES.get(joined)
    if shape is None:
        shape = _Shape(joined.split("\n"))
        if len(joined) <= _MAX_SHAPE_KEYS:
            if len(_SHAPES) >= _MAX_SHAPES:
                _SHAPES.clear()
            _SHAPES[joined] = shape
    return shape


def _shape_of(keys: Sequence[str]) -> _Shape:
    joined = "\n".join(keys)
    if joined.count("\n") != len(keys) - 1:
        return _Shape(keys)  # a key built in code holds a line break: joining would be ambiguous
    return _shape_of_joined(joined) if keys else _Shape(())


def _pairs_of(flat: list[str]) -> tuple[tuple[str, str], ...]:
    it = iter(flat)
    return tuple(zip(it, it))  # noqa: B905 - even length by construction


def split_headers(text: str, nl: str = "\r\n") -> list[str]:
    """``text`` (lines separated by ``nl``) → [key, value, key, value...]. Lines without a colon are skipped.

    Fast path, all in C: when every line holds exactly one ``": "``, splitting on both separators yields the
    flat list directly (proved by counting); anything else goes line by line.
    """
    split = text.replace(nl, ": ").split(": ")
    if len(split) == 2 * text.count(nl) + 2:
        return split
    flat: list[str] = []
    for line in text.split(nl):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep:
                continue  # stray text: not a header
        flat += (key, value)
    return flat


Pairs = tuple[tuple[str, str], ...]


class AmiMessage:
    """Immutable set of AMI headers. Equal when the class and the headers (and ``output``) are equal."""

    __slots__ = ("_data", "_shape")
    # The frame text as received (CRLF or LF lines) until first use, then the (key, value) pairs.
    _data: str | Pairs
    # Set together with the pairs (never read while ``_data`` is still text, so the codec skips it).
    _shape: _Shape

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        pairs = tuple((str(k), str(v)) for k, v in headers)
        _set(self, "_data", pairs)
        _set(self, "_shape", _shape_of([k for k, _ in pairs]))

    @classmethod
    def _from_flat(cls: type[_M], flat: list[str]) -> _M:
        """Constructor for the codec: ``flat`` = key, value, key, value..."""
        obj = object.__new__(cls)
        _set(obj, "_data", _pairs_of(flat))
        _set(obj, "_shape", _shape_of(flat[::2]))
        return obj

    @classmethod
    def _from_text(cls: type[_M], text: str) -> _M:
        """Lazy constructor for the codec: one frame's text, split into headers on first use."""
        obj = object.__new__(cls)
        _set(obj, "_data", text)
        return obj

    def _split(self) -> Pairs:
        text = self._data
        if type(text) is not str:
            return text  # type: ignore[return-value]
        # the codec normalises a frame to either CRLF or LF line ends, never both
        nl = "\r\n" if "\r\n" in text else "\n"
        flat = text.replace(nl, ": ").split(": ")
        if len(flat) != 2 * text.count(nl) + 2:
            flat = split_headers(text, nl)
        pairs = _pairs_of(flat)
        _set(self, "_shape", _shape_of_joined("\n".join(flat[::2])) if flat else _Shape(()))
        _set(self, "_data", pairs)
        return pairs

    @property
    def headers(self) -> Pairs:
        pairs = self._data
        return self._split() if type(pairs) is str else pairs  # type: ignore[return-value]

    def _find(self, key: str) -> str | None:
        """First value of ``key``, any spelling: the exact spelling, else its lower-case form, in the shared
        index of this frame's shape (two dict probes at most)."""
        pairs = self._data
        if type(pairs) is str:
            pairs = self._split()
        index = self._shape.index
        i = index.get(key)
        if i is None:
            i = index.get(_lower(key))
            if i is None:
                return None
        return pairs[i][1]

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self._find(key)
        return default if value is None else value

    def __getitem__(self, key: str) -> str:
        value = self._find(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def get_all(self, key: str) -> list[str]:
        pairs = self.headers
        low = key.lower()
        return [pairs[i][1] for i, k in enumerate(self._shape.lower) if k == low]

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    @property
    def action_id(self) -> str | None:
        return self._find("ActionID")

    def _key(self) -> tuple[Any, ...]:
        return (self.headers,)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, AmiMessage)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(headers={self.headers!r})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.headers,))


class AmiEvent(AmiMessage):
    __slots__ = ()

    @property
    def name(self) -> str:
        data = self._data
        if type(data) is str:
            if data.startswith("Event: "):
                end = data.find("\n")
                if end < 0:
                    return data[7:]
                return data[7 : end - 1] if data[end - 1] == "\r" else data[7:end]
            data = self._split()
        if data and data[0][0] == "Event":
            return data[0][1]
        return self._find("Event") or ""


class AmiResponse(AmiMessage):
    """``Response: Success|Error|Follows|Goodbye``. ``output`` holds the body lines of a ``Follows`` response
    (legacy Command action) or the values of the ``Output:`` headers (Command in Asterisk 14+)."""

    __slots__ = ("output",)
    output: tuple[str, ...]

    def __init__(self, headers: Iterable[tuple[str, str]] = (), output: Iterable[str] = ()) -> None:
        super().__init__(headers)
        _set(self, "output", tuple(output))

    @classmethod
    def _new_response(cls, flat: list[str], output: tuple[str, ...]) -> AmiResponse:
        obj = cls._from_flat(flat)
        _set(obj, "output", output)
        return obj

    def _key(self) -> tuple[Any, ...]:
        return (self.headers, self.output)

    def __repr__(self) -> str:
        return f"AmiResponse(headers={self.headers!r}, output={self.output!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.headers, self.output))

    @property
    def response(self) -> str:
        return self._find("Response") or ""

    @property
    def ok(self) -> bool:
        return self.response.lower() in ("success", "follows", "goodbye")

    @property
    def message(self) -> str:
        return self._find("Message") or ""


@dataclass(frozen=True, slots=True)
class AmiBanner:
    """The first line of a connection: ``Asterisk Call Manager/11.0.0``."""

    text: str

    @property
    def version(self) -> str:
        return self.text.rsplit("/", 1)[-1] if "/" in self.text else ""


@dataclass(frozen=True, slots=True)
class AmiEventList:
    """A response that opened an event list (``EventList: start``) with the events that belong to it and the
    closing ``...Complete`` event, collected by the client as one result."""

    response: AmiResponse
    events: tuple[AmiEvent, ...]
    complete: AmiEvent | None


Message = AmiBanner | AmiEvent | AmiResponse


class AmiProtocolError(Exception):
    """Bad bytes on an AMI link (no terminator within the limit, a line too long...). ``messages`` carries the
    good messages decoded from the same input, so a caller loses nothing valid."""

    def __init__(self, message: str, *, messages: list[Any] | None = None) -> None:
        super().__init__(message)
        self.messages: list[Message] = list(messages or ())
