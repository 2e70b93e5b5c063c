"""What the IVR needs from other parts, as small protocols (implemented by crm/, acd/, dialer/, events/...).

Simple in-memory implementations live beside them for tests, the simulator CLI and the demo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    name: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        """What scripts see as ``contact``: ``contact.name``, ``contact.vip``... (fields flattened)."""
        return {**dict(self.fields), "id": self.id, "name": self.name}


class ContactLookup(Protocol):
    async def lookup(self, number: str) -> Contact | None: ...


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """A call handed from the IVR to the ACD. ``attached`` = the script's variables (screen-pop data)."""

    call_id: str
    channel_id: str
    queue: str
    skills: Mapping[str, int]
    priority: int | None
    announcements: tuple[str, ...]
    attached: Mapping[str, str]
    caller_number: str
    language: str
    ivr_path: tuple[str, ...] = ()


class QueueTarget(Protocol):
    async def enqueue(self, request: QueueRequest) -> str | None:
        """Take over the channel (it stays in Stasis) and return once the ACD owns it; the IVR is done with
        the call. A returned text (e.g. "position 3") is recorded on the IVR step."""
        ...


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    call_id: str
    number: str
    queue: str | None
    requested_at: float
    attached: Mapping[str, str] = field(default_factory=dict)


class CallbackSink(Protocol):
    async def request_callback(self, request: CallbackRequest) -> None: ...


class DncSink(Protocol):
    """The do-not-call lists (the dialler's): the IVR's ``do_not_call`` node, an opt-out line."""

    async def do_not_call(self, number: str, campaign: str | None, reason: str, call_id: str = "") -> str:
        """Put ``number`` on ``campaign``'s list (None: the global one); returns it in E.164. Raises
        ``ValueError`` for a number that is none (anonymous, malformed) or a campaign that does not exist."""
        ...


@dataclass(frozen=True, slots=True)
class SurveyResult:
    call_id: str
    survey: str
    score: int
    scale: int
    at: float
    script: str = ""


class SurveySink(Protocol):
    async def store_survey(self, result: SurveyResult) -> None: ...


class HttpFetcher(Protocol):
    async def fetch(self, method: str, url: str, body: Mapping[str, Any] | None) -> Any:
        """Return the decoded JSON reply; raise on a non-2xx status or a body that is not JSON.

        The caller bounds the time with ``asyncio.timeout``."""
        ...


class MemoryContacts:
    """Contacts keyed by number (E.164 or as dialled); used by tests and ``ivr simulate --contact-file``."""

    def __init__(self, contacts: Mapping[str, Contact] | None = None) -> None:
        self.contacts = dict(contacts or {})

    async def lookup(self, number: str) -> Contact | None:
        return self.contacts.get(number)

    @classmethod
    def from_data(cls, data: Any) -> MemoryContacts:
        """``{"+380441234567": {"id": "c1", "name": "Ann", "vip": true}, ...}`` or a list with ``number``."""
        items = data.items() if isinstance(data, dict) else ((d.get("number"), d) for d in data or [])
        out: dict[str, Contact] = {}
        for number, raw in items:
            raw = dict(raw or {})
            cid = str(raw.pop("id", number))
            name = str(raw.pop("name", ""))
            raw.pop("number", None)
            out[str(number)] = Contact(cid, name, raw)
        return cls(out)


class MemoryCallbacks:
    def __init__(self) -> None:
        self.requests: list[CallbackRequest] = []

    async def request_callback(self, request: CallbackRequest) -> None:
        self.requests.append(request)


class MemoryDnc:
    """The simulator CLI's lists: the number as given (no region to read it in), by list (None: global)."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str | None]] = []

    async def do_not_call(self, number: str, campaign: str | None, reason: str, call_id: str = "") -> str:
        if not number.strip("+").isdigit():
            raise ValueError(f"not a phone number: {number!r}")
        self.added.append((number, campaign))
        return number


class MemorySurveys:
    def __init__(self) -> None:
        self.results: list[SurveyResult] = []

    async def store_survey(self, result: SurveyResult) -> None:
        self.results.append(result)


class BusSurveys:
    """Survey results as ``call.updated`` events (``change: "survey"``) on the bus, kept in memory too."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.results: list[SurveyResult] = []

    async def store_survey(self, result: SurveyResult) -> None:
        from ctiserver.events.envelope import new_event

        self.results.append(result)
        data = {
            "call_id": result.call_id,
            "change": "survey",
            "survey": result.survey,
            "score": result.score,
            "scale": result.scale,
            "script": result.script,
        }
        await self.bus.publish(new_event("call.updated", result.call_id, data, result.at))
