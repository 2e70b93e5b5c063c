"""Frozen, typed AMI messages — what the sans-I/O codec produces and the client hands out.

Header lookups are case-insensitive (Asterisk spells ``Uniqueid``/``UniqueID`` differently across events)
and return the first value; ``get_all`` returns every value of a repeated header
(``ChanVariable``, ``Output``...).
``headers`` keeps every (key, value) pair in wire order, keys as sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

_M = TypeVar("_M", bound="AmiMessage")
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class AmiMessage:
    headers: tuple[tuple[str, str], ...]
    # lower-cased key -> first value; built on first lookup (most events are dispatched by name and dropped)
    _index: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def _new(cls: type[_M], headers: tuple[tuple[str, str], ...]) -> _M:
        """Fast constructor for the codec (skips dataclass ``__init__``; same result)."""
        obj = object.__new__(cls)
        _set(obj, "headers", headers)
        _set(obj, "_index", None)
        return obj

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            for key, value in reversed(self.headers):
                index[key.lower()] = value
            _set(self, "_index", index)
        return index

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._lookup().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        try:
            return self._lookup()[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lookup()

    def get_all(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.headers if k.lower() == low]

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    @property
    def action_id(self) -> str | None:
        return self._lookup().get("actionid")


@dataclass(frozen=True, slots=True)
class AmiBanner:
    """The first line of a connection: ``Asterisk Call Manager/11.0.0``."""

    text: str

    @property
    def version(self) -> str:
        return self.text.rsplit("/", 1)[-1] if "/" in self.text else ""


@dataclass(frozen=True, slots=True)
class AmiEvent(AmiMessage):
    @property
    def name(self) -> str:
        headers = self.headers
        if headers and headers[0][0] == "Event":
            return headers[0][1]
        return self._lookup().get("event", "")


@dataclass(frozen=True, slots=True)
class AmiResponse(AmiMessage):
    """``Response: Success|Error|Follows|Goodbye``. ``output`` holds the body lines of a ``Follows`` response
    (Command action) or the ``Output:`` headers."""

    output: tuple[str, ...] = ()

    @classmethod
    def _new_response(cls, headers: tuple[tuple[str, str], ...], output: tuple[str, ...]) -> AmiResponse:
        obj = cls._new(headers)
        _set(obj, "output", output)
        return obj

    @property
    def response(self) -> str:
        return self._lookup().get("response", "")

    @property
    def ok(self) -> bool:
        return self.response.lower() in ("success", "follows", "goodbye")

    @property
    def message(self) -> str:
        return self._lookup().get("message", "")


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
