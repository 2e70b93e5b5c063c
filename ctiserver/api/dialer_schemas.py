"""Request/response models of the dialer endpoints (they are the OpenAPI schemas); the campaign body itself is the
dialer's own ``CampaignSettings``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = Annotated[str, Field(min_length=2, max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Waiting(BaseModel):
    """Why a running campaign dials nothing now; it dials again by itself once this clears."""

    code: Literal["ami_down", "reconciling", "ari_away", "dialplan_missing", "lease_unconfirmed"]
    detail: str = ""  # dialplan_missing: the contexts the PBX lacks, comma-separated


class AmdAuditStats(BaseModel):
    """The AMD audit's verdicts in the abandonment window (``dialer/amd_audit.py``)."""

    people: int = 0  # MACHINE verdicts an agent found a person on: false positives
    machines: int = 0
    measured: float | None = None  # people / verdicts, once there are amd_audit_min of them


class CampaignStats(BaseModel):
    campaign: str
    state: str
    halted: str | None = None  # why the campaign paused itself: the PBX refused its calls (its message)
    waiting: Waiting | None = None  # why a running campaign dials nothing now (link, dialplan…)
    mode: str
    pacing: str
    ringing: int
    waiting_live: int
    answer_rate: float
    abandon_rate_window: float  # the law's: AMD's estimated false positives included
    abandon_cap: float
    amd_false_positives: float = 0.0  # estimated in the window: amd_false_positive_rate × MACHINE verdicts
    amd_false_positive_rate: float = 0.0  # in use: measured by the AMD audit once it has enough verdicts, else set
    amd_audit: AmdAuditStats | None = None
    counters: dict[str, int]


class CampaignOut(BaseModel):
    name: str
    state: str
    settings: dict[str, Any]
    stats: CampaignStats


class ContactIn(_In):
    number: Number
    name: str = Field("", max_length=200)
    id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    timezone: str | None = Field(None, min_length=1, max_length=64, description="IANA zone; default: from the number")
    fields: dict[str, Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, description="custom fields shown on the agent's screen-pop"
    )


class ContactsIn(_In):
    contacts: list[ContactIn] = Field(min_length=1, max_length=10_000)


class RejectedRow(BaseModel):
    line: int = Field(description="CSV: the file's line (header = 1); JSON: the index in 'contacts'")
    reason: str
    row: dict[str, str]


class ImportOut(BaseModel):
    imported: int
    duplicates: int
    rejected: list[RejectedRow]
    spanning: int = Field(
        0, description="numbers that may be in several time zones: called only while the window is open in all"
    )


class ImportQuery(_In):
    map: str | None = Field(
        None, max_length=500, description="column mapping, e.g. 'number=Phone,name=Full Name,fields=city|plan'"
    )


class DncIn(_In):
    numbers: list[Number] = Field(min_length=1, max_length=10_000)
    reason: str = Field("", max_length=200)


class DncOut(BaseModel):
    campaign: str = Field(description="empty: the global list")
    numbers: list[str] = Field(description="in order, at most `limit` of them, after `after`")
    next: str | None = Field(None, description="more follow: ask again with after=<this>; null: the list ends here")


class DncQuery(_In):
    after: str | None = Field(None, max_length=32, description="numbers after this one (the previous page's next)")
    limit: int = Field(10_000, ge=1, le=100_000)


class DncCheck(BaseModel):
    number: str = Field(description="the number as the lists keep it (E.164)")
    listed: bool = Field(description="global: on the global list; a campaign's: on its list or the global one")


class DncAdded(BaseModel):
    added: int = Field(description="numbers that were not on the list yet")
    numbers: list[str] = Field(description="the numbers as stored (E.164)")


class DispositionIn(_In):
    disposition: str = Field(min_length=1, max_length=64, description="'do_not_call' puts the number on the DNC list")


class CallbackIn(_In):
    number: Number
    at: float = Field(gt=0, le=2**40, description="when to call back (epoch seconds)")
    name: str = Field("", max_length=200)
    fields: dict[str, Annotated[str, Field(max_length=1000)]] = Field(default_factory=dict)
    agent: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="personal call-back for this agent; agents: default and only their own; "
        "supervisors: omit for a call-back to the campaign's queue",
    )


class CallbackOut(BaseModel):
    contact_id: str
    campaign: str
    number: str
    at: float
    agent: str | None


class CampaignPatch(BaseModel):
    """Any of the campaign's settings (as in the create body); the others keep their values. The name is fixed."""

    model_config = ConfigDict(extra="allow")


class PageQuery(_In):
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(100, ge=1, le=1000)


# the values of ctiserver.dialer.model.ContactStatus / Outcome, inline (query parameters cannot $ref a schema)
ContactStatusName = Literal["pending", "dialling", "done", "exhausted", "dnc", "callback"]
OutcomeName = Literal["human", "abandoned", "machine", "busy", "noanswer", "failed", "invalid", "unknown"]


class ContactsQuery(PageQuery):
    status: ContactStatusName | None = Field(None, description="only contacts in this status")


class AttemptsQuery(PageQuery):
    outcome: OutcomeName | None = Field(None, description="only attempts with this outcome")


class ContactOut(BaseModel):
    id: str
    number: str
    name: str
    timezone: str
    fields: dict[str, str]
    status: str
    attempts: int
    next_at: float
    last_outcome: str | None
    agent: str | None
    priority: int


class ContactsPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ContactOut]


class AttemptOut(BaseModel):
    attempt: str
    contact_id: str
    number: str
    started: float
    ended: float
    outcome: str
    channel: str | None
    agent: str | None
    amd_status: str | None
    amd_cause: str | None
    mode: str
    answered: float | None = Field(None, description="when the callee answered (after AMD's verdict)")
    talk_seconds: float | None = Field(None, description="how long the agent talked with the callee")
    connected: float | None = Field(None, description="when the agent's phone answered (connected calls)")
    late: bool = Field(
        False,
        description="the agent's phone answered more than the two seconds after the callee's greeting: "
        "served, but an abandoned call in the abandonment rate (as the law counts it)",
    )


class AttemptsPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AttemptOut]


class CallbacksQuery(_In):
    agent: str | None = Field(
        None, min_length=1, max_length=64, description="only this agent's personal call-backs (agents: their own)"
    )
    campaign: str | None = Field(None, min_length=1, max_length=64, description="only this campaign's")
    limit: int = Field(200, ge=1, le=1000, description="at most this many, the earliest first")


class CallbackItem(CallbackOut):
    """A pending call-back: a contact of the campaign in status ``callback``."""

    name: str
    fields: dict[str, str] = Field(description="as scheduled; the agent console keeps its note in 'note'")


class CampaignDispositions(BaseModel):
    campaign: str
    state: str
    queue: str
    dispositions: list[str] = Field(description="what the agent may set in wrap-up ('do_not_call': DNC list)")


class AbandonmentDay(BaseModel):
    day: str = Field(description="UTC date")
    live: int = Field(description="live answers: served or abandoned")
    abandoned: int = Field(description="nobody took them within 2 s of the greeting, or an agent too late")
    machines: int = Field(description="AMD's MACHINE verdicts")
    false_positives: float = Field(description="estimated people among them: amd_false_positive_rate × machines")
    rate: float = Field(description="(abandoned + false_positives) / (live + false_positives)")


class AbandonmentWindow(BaseModel):
    end: float = Field(description="the rolling window ends here (an hour's end, epoch seconds)")
    live: float
    abandoned: float
    rate: float


class AbandonmentOut(BaseModel):
    """A campaign's abandonment record for a period (``dialer/compliance.py``)."""

    campaign: str
    window: str = Field(description="the cap's rolling window: 24h (Ofcom) or 30d (FTC/FCC)")
    cap: float
    false_positive_rate: float
    since: float
    until: float
    days: list[AbandonmentDay]
    worst: AbandonmentWindow | None = Field(description="the worst rolling window ending in the period")
    hours_over_cap: int = Field(description="hour ends in the period whose rolling window was over the cap")


class ReportDayOut(BaseModel):
    day: str = Field(description="UTC date (attempts by when they started)")
    attempts: int
    contacts: int = Field(description="contacts dialled that day, each once")
    outcomes: dict[str, int] = Field(description="attempts per outcome (every outcome, 0 when none)")
    connected: int = Field(description="reached an agent")
    late: int = Field(description="of them, the agent's phone answered past the two seconds (abandoned in law)")
    abandoned_total: int = Field(description="abandoned + late")
    answer_rate: float = Field(description="answered (live, abandoned or machine) / attempts")
    connect_rate: float = Field(description="connected / attempts")
    talk_seconds: float
    avg_talk: float | None = Field(description="talk seconds per connected call")


class CampaignReportOut(BaseModel):
    campaign: str
    since: float
    until: float
    days: list[ReportDayOut]
