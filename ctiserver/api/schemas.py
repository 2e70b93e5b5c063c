"""Request/response models of the REST API (they are the OpenAPI schemas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ctiserver.api.auth import Role

BigInt = Annotated[int, Field(ge=0, le=2**62)]
SkillName = Annotated[str, Field(min_length=1, max_length=64)]
SkillLevel = Annotated[int, Field(ge=0, le=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    node: str
    checks: dict[str, bool]


class DialIn(_In):
    agent: str | None = Field(None, min_length=1, max_length=64, description="default: the token's agent")
    number: str = Field(min_length=2, max_length=40, pattern=r"^\+?[0-9*#]+$")
    caller_id: str | None = Field(None, max_length=40)


class DialOut(BaseModel):
    call_id: str


class TransferIn(_In):
    target: str = Field(min_length=1, max_length=64, description="agent:<id>, queue:<name> or a number")
    kind: Literal["blind", "attended"] = "blind"


class HoldIn(_In):
    on: bool


class RecordingIn(_In):
    action: Literal["start", "stop", "pause", "resume"]


class DispositionIn(_In):
    code: str = Field(min_length=1, max_length=64)
    notes: str = Field("", max_length=10_000)


class HistoryQuery(_In):
    since: float | None = Field(None, ge=0)
    until: float | None = Field(None, ge=0)
    agent: str | None = Field(None, max_length=64)
    queue: str | None = Field(None, max_length=64)
    limit: int = Field(100, ge=1, le=1000)


class AgentActionIn(_In):
    reason: str | None = Field(None, max_length=64)


class SkillsIn(_In):
    skills: dict[SkillName, SkillLevel] = Field(max_length=100)


def _when(value: Any) -> Any:
    """Epoch seconds, or an ISO date / date-time (UTC when it has no offset)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("use epoch seconds or YYYY-MM-DD[THH:MM[:SS][+HH:MM]]") from None
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    return value


When = Annotated[float, Field(ge=0, le=2**40), BeforeValidator(_when)]
REPORT_INTERVALS: dict[str, float | None] = {
    "15m": 900.0,
    "30m": 1800.0,
    "60m": 3600.0,
    "1h": 3600.0,
    "day": 86_400.0,
    "all": None,
}


class Period(_In):
    """A period: ``from``/``to`` (or ``since``/``until``), checked by ``handlers.agents.report_range``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: When | None = Field(
        None, alias="from", description="start, inclusive: epoch seconds or ISO date/date-time (UTC)"
    )
    to: When | None = Field(None, description="end, exclusive: epoch seconds or ISO date/date-time (UTC)")
    since: When | None = Field(None, description="alias of from")
    until: When | None = Field(None, description="alias of to")


class PeriodQuery(Period):
    """A period of calls, optionally one queue (the report summary; the base of ``ReportQuery``)."""

    queue: str | None = Field(None, min_length=1, max_length=64)


class ReportQuery(PeriodQuery):
    interval: Literal["15m", "30m", "60m", "1h", "day", "all"] = "30m"
    by: Literal["queue", "agent"] = "queue"


class ContactQuery(_In):
    q: str = Field("", max_length=100)
    phone: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=500)


class LookupQuery(_In):
    number: str = Field(min_length=1, max_length=40)


class ScriptIn(_In):
    source: str = Field(min_length=1, max_length=1_000_000)


class ScriptProblems(BaseModel):
    valid: bool
    problems: list[dict[str, Any]]


class WebhookIn(_In):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    secret: str = Field(min_length=16, max_length=200)
    types: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=50)


class WebhookOut(BaseModel):
    id: str
    url: str
    types: list[str]
    active: bool
    created_at: float


class DeadLetter(BaseModel):
    id: int
    subscription_id: str
    event_id: str
    seq: int
    subject: str
    attempts: int
    last_error: str
    created_at: float


class ReplayIn(_In):
    ids: list[BigInt] | None = Field(None, max_length=10_000, description="default: every dead letter")


class Count(BaseModel):
    count: int


class EventsQuery(_In):
    after_seq: int = Field(0, ge=0, le=2**62)
    limit: int = Field(500, ge=1, le=5000)


class EventOut(BaseModel):
    specversion: str
    id: str
    type: str
    source: str
    subject: str
    time: float
    seq: int
    data: dict[str, Any]


class TokenIn(_In):
    role: Role
    agent: str | None = Field(None, min_length=1, max_length=64)
    name: str = Field("", max_length=200)


class TokenOut(BaseModel):
    id: str
    role: Role
    agent: str | None
    name: str
    created_at: float
    revoked: bool


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")
