"""Frozen, typed AMI messages — what the sans-I/O codec produces and the client hands out.

Header lookups are case-insensitive (Asterisk spells ``Uniqueid``/``UniqueID`` differently across events) and
return the first value; ``get_all`` returns every value of a repeated header (``ChanVariable``, ``Output``...).
``headers`` keeps every (key, value) pair in wire order, keys as sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AmiMessage:
    headers: tuple[tuple[str, str], ...]
    _index: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.headers:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "_index", index)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        try:
            return self._index[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def get_all(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.headers if k.lower() == low]

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    @property
    def action_id(self) -> str | None:
        return self._index.get("actionid")


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
        return self._index.get("event", "")


@dataclass(frozen=True, slots=True)
class AmiResponse(AmiMessage):
    """``Response: Success|Error|Follows|Goodbye``. ``output`` holds the body lines of a ``Follows`` response
    (Command action) or the ``Output:`` headers."""

    output: tuple[str, ...] = ()

    @property
    def response(self) -> str:
        return self._index.get("response", "")

    @property
    def ok(self) -> bool:
        return self.response.lower() in ("success", "follows", "goodbye")

    @property
    def message(self) -> str:
        return self._index.get("message", "")


@dataclass(frozen=True, slots=True)
class AmiEventList:
    """A response that opened an event list (``EventList: start``) with the events that belong to it and the
    closing ``...Complete`` event, collected by the client as one result."""

    response: AmiResponse
    events: tuple[AmiEvent, ...]
    complete: AmiEvent | None


Message = AmiBanner | AmiEvent | AmiResponse


class AmiProtocolError(Exception):
    """Bad bytes on an AMI link (no terminator within the limit, header too long, not UTF-8 where required...)."""
