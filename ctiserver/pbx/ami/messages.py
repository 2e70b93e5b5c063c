"""Immutable, typed AMI messages — what the sans-I/O codec produces and the client hands out.

Header lookups are case-insensitive (Asterisk spells ``Uniqueid``/``UniqueID`` differently across events)
and return the first value; ``get_all`` returns every value of a repeated header (``ChanVariable``...).
``headers`` keeps every (key, value) pair in wire order, keys as sent.

Performance: the codec hands over each event as its decoded frame text; the header split (into a flat
``k1, v1, k2, v2...`` list), the pairs tuple and the lookup index are each built on first use, once. ``name``
reads the first line only. Most events are dispatched by name and many are dropped unread, so ingest stays
cheap (see bench/ami_ingest.py, which reports both the ingest rate and the rate with every header read).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, NoReturn, TypeVar

_M = TypeVar("_M", bound="AmiMessage")
_set = object.__setattr__


class _LowerCache(dict[str, str]):
    """key -> key.lower() for the few hundred header names AMI uses: a dict hit allocates nothing, where
    ``str.lower`` builds a new string every time. Bounded: odd keys from the wire cannot grow it forever."""

    def __missing__(self, key: str) -> str:
        low = key.lower()
        if len(self) < 4096:
            self[key] = low
        return low


_lower = _LowerCache().__getitem__


class AmiMessage:
    """Immutable set of AMI headers. Equal when the class and the headers (and ``output``) are equal."""

    __slots__ = ("_data", "_memo")
    # The frame text as received (CRLF or LF lines) until first use, then the flat [key, value, ...] list.
    _data: str | Sequence[str]
    # [pairs tuple | None, lower-cased index | None], created on first use; never changed once filled
    _memo: list[Any] | None

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        pairs = tuple((str(k), str(v)) for k, v in headers)
        _set(self, "_data", [x for pair in pairs for x in pair])
        _set(self, "_memo", [pairs, None])

    @classmethod
    def _from_flat(cls: type[_M], flat: Sequence[str]) -> _M:
        """Constructor for the codec: ``flat`` = key, value, key, value... (a list it hands over)."""
        obj = object.__new__(cls)
        _set(obj, "_data", flat)
        _set(obj, "_memo", None)
        return obj

    @classmethod
    def _from_text(cls: type[_M], text: str) -> _M:
        """Fast constructor for the codec: one frame's text, split into headers on first use."""
        obj = object.__new__(cls)
        _set(obj, "_data", text)
        _set(obj, "_memo", None)
        return obj

    @property
    def _flat(self) -> Sequence[str]:
        data = self._data
        if type(data) is str:
            # the codec normalises a frame to either CRLF or LF line ends, never both
            data = split_headers(data, "\r\n" if "\r\n" in data else "\n")
            _set(self, "_data", data)
        return data

    def _memo_list(self) -> list[Any]:
        memo = self._memo
        if memo is None:
            memo = [None, None]
            _set(self, "_memo", memo)
        return memo

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        memo = self._memo or self._memo_list()
        pairs: tuple[tuple[str, str], ...] | None = memo[0]
        if pairs is None:
            it = iter(self._flat)
            pairs = memo[0] = tuple(zip(it, it, strict=True))
        return pairs

    def _lookup(self) -> dict[str, str]:
        memo = self._memo or self._memo_list()
        index: dict[str, str] | None = memo[1]
        if index is None:
            flat = self._flat
            # built backwards so that the first value of a repeated key wins
            index = memo[1] = dict(zip(map(_lower, flat[-2::-2]), flat[::-2]))  # noqa: B905 - same length
        return index

    def _find(self, key: str) -> str | None:
        """First value of ``key``: a C-speed scan for the exact spelling (what callers almost always ask for),
        else the case-insensitive index (built once). AMI never sends one key in two spellings in a frame."""
        memo = self._memo
        if memo is None or memo[1] is None:
            flat = self._flat
            try:
                i = flat.index(key)
                while i & 1:  # matched a value, not a key: look further
                    i = flat.index(key, i + 1)
                return flat[i + 1]
            except ValueError:
                pass
        return self._lookup().get(_lower(key))

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
        low = key.lower()
        flat = self._flat
        return [flat[i + 1] for i in range(0, len(flat), 2) if flat[i].lower() == low]

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    @property
    def action_id(self) -> str | None:
        return self._find("ActionID")

    def _key(self) -> tuple[Any, ...]:
        return (tuple(self._flat),)

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
            data = self._flat
        flat = data
        if flat and flat[0] == "Event":
            return flat[1]
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
    def _new_response(cls, flat: Sequence[str], output: tuple[str, ...]) -> AmiResponse:
        obj = cls._from_flat(flat)
        _set(obj, "output", output)
        return obj

    def _key(self) -> tuple[Any, ...]:
        return (tuple(self._flat), self.output)

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
