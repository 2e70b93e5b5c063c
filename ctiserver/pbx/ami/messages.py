"""Immutable, typed AMI messages — what the sans-I/O codec produces and the client hands out.

Header lookups are case-insensitive (Asterisk spells ``Uniqueid``/``UniqueID`` differently across events)
and return the first value; ``get_all`` returns every value of a repeated header (``ChanVariable``...).
``headers`` keeps every (key, value) pair in wire order, keys as sent.

Representation (ctiserver/pbx/ami/shape.py): a message holds its header lines ``Key: value`` as received plus a
shared shape (keys, case-insensitive index, value offsets); a value is cut from its line on first use, so
a lookup is two dict probes at most plus one slice, whatever the spelling. Events that did not come through
the codec's fast path hold their frame text until first use (``name`` reads the first line only).
bench/ami_ingest.py measures the codec against panoramisk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import FrozenInstanceError, dataclass
from operator import getitem
from typing import Any, NoReturn, TypeVar

from ctiserver.pbx.ami.shape import Shape, lines_of, lower

_M = TypeVar("_M", bound="AmiMessage")
_set = object.__setattr__


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


def _flat_pairs(flat: list[str]) -> Iterator[tuple[str, str]]:
    it = iter(flat)
    return zip(it, it)  # noqa: B905 - even length by construction


class AmiMessage:
    """Immutable set of AMI headers. Equal when the class and the headers (and ``output``) are equal."""

    __slots__ = ("_data", "_shape")
    # The frame text as received (CRLF or LF lines) until first use, then the header lines "Key: value"
    # (private, never mutated: the message is immutable from outside).
    _data: str | list[str]
    # Set together with the lines (never read while ``_data`` is still text, so the codec skips it).
    _shape: Shape

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        lines, shape = lines_of((str(k), str(v)) for k, v in headers)
        _set(self, "_data", lines)
        _set(self, "_shape", shape)

    @classmethod
    def _from_flat(cls: type[_M], flat: list[str]) -> _M:
        """Constructor for the codec's frame path: ``flat`` = key, value, key, value..."""
        obj = object.__new__(cls)
        lines, shape = lines_of(_flat_pairs(flat))
        _set(obj, "_data", lines)
        _set(obj, "_shape", shape)
        return obj

    @classmethod
    def _from_text(cls: type[_M], text: str) -> _M:
        """Lazy constructor for the codec: one frame's text, split into headers on first use."""
        obj = object.__new__(cls)
        _set(obj, "_data", text)
        return obj

    def _split(self) -> list[str]:
        text = self._data
        if type(text) is not str:
            return text  # type: ignore[return-value]
        # the codec normalises a frame to either CRLF or LF line ends, never both
        lines, shape = lines_of(_flat_pairs(split_headers(text, "\r\n" if "\r\n" in text else "\n")))
        _set(self, "_shape", shape)
        _set(self, "_data", lines)
        return lines

    @property
    def headers(self) -> Pairs:
        """Every (key, value) pair in wire order, keys as sent."""
        lines = self._split()
        shape = self._shape
        return tuple(zip(shape.keys, map(getitem, lines, shape.tails)))  # noqa: B905 - n keys, n lines

    def _find(self, key: str) -> str | None:
        """First value of ``key``, any spelling: the exact spelling, else its lower-case form, in the shared
        index of this frame's shape (two dict probes at most)."""
        lines = self._data
        if type(lines) is str:
            lines = self._split()
        shape = self._shape
        i = shape.index.get(key)
        if i is None:
            i = shape.index.get(lower(key))
            if i is None:
                return None
        return lines[i][shape.offsets[i] :]

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
        lines = self._split()
        shape = self._shape
        low = key.lower()
        return [lines[i][shape.offsets[i] :] for i, k in enumerate(shape.lower) if k == low]

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
        name = self._shape.name
        if name is not None:
            return name
        if self._shape.event:
            return data[0][7:]
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
