"""The dialer's data: campaign settings, contacts, attempts and their outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ctiserver.dialer.windows import CallingWindows, zone


class PacingMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class Outcome(StrEnum):
    """How one attempt (one leg) ended."""

    HUMAN = "human"  # answered live and connected to an agent
    ABANDONED = "abandoned"  # answered live, no agent within 2 s: heard the message
    MACHINE = "machine"  # answering machine (AMD)
    BUSY = "busy"
    NOANSWER = "noanswer"
    FAILED = "failed"  # congestion, unreachable, rejected, originate refused
    INVALID = "invalid"  # the number does not exist (404 / unallocated, changed, malformed): never retried
    UNKNOWN = "unknown"  # fate unknown after a link loss, reconciled before any re-dial


RETRYABLE = {Outcome.BUSY, Outcome.NOANSWER, Outcome.MACHINE, Outcome.FAILED, Outcome.ABANDONED}


class ContactStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DIALLING = "dialling"  # an attempt is in flight
    DONE = "done"  # reached a human
    EXHAUSTED = "exhausted"  # max attempts used
    DNC = "dnc"  # on a do-not-call list at dial time
    CALLBACK = "callback"  # an agent scheduled a call-back


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(3, ge=1, le=50)
    busy: float = Field(300.0, ge=0)
    noanswer: float = Field(3600.0, ge=0)
    machine: float = Field(7200.0, ge=0)
    failed: float = Field(1800.0, ge=0)
    abandoned: float = Field(600.0, ge=0)

    def delay(self, outcome: Outcome) -> float | None:
        """Seconds until the next attempt after ``outcome``; None: no retry for it. A call of unknown fate (it
        may have reached the callee) waits as long as a failed one, never less."""
        if outcome is Outcome.UNKNOWN:
            return self.failed
        if outcome not in RETRYABLE:
            return None
        return float(getattr(self, outcome.value))


class RepeatRules(BaseModel):
    """A number that heard the abandon message, or whose answer ``AMD()`` took for a machine, is called again
    within these seconds only with an agent held for the call before it is dialled ("the guaranteed presence of
    a live operator", Ofcom's persistent-misuse policy: 72 h after an abandoned call, 24 h after an AMD machine
    verdict — a false positive was a silent call to a person). Counted over every campaign's attempts on the
    number. 0: no such rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abandoned: float = Field(72 * 3600.0, ge=0)  # also calls an agent took past the two seconds (``late``)
    machine: float | None = Field(None, ge=0)  # None: 24 h with the 24-hour abandon window (Ofcom's), else 0


class CampaignSettings(BaseModel):
    """Per-campaign settings (YAML ``dialer.campaigns[]``, the API, ``ctiserver dialer campaign create``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    mode: PacingMode = PacingMode.PROGRESSIVE
    queue: str = "outbound"  # the ACD queue whose agents work this campaign
    skills: dict[str, int] = Field(default_factory=dict)
    caller_id: str = ""
    caller_name: str = ""
    # local presence: the caller ID shown to numbers starting with a prefix (E.164, longest prefix wins), e.g.
    # {"+4930": "+493055500100", "+4940": "+494055500100"}; others get ``caller_id``. Each must be a number
    # that answers when called back (Ofcom, the FCC's Truth in Caller ID rules)
    caller_ids: dict[str, str] = Field(default_factory=dict)
    region: str = "US"  # default region for numbers without a country code
    # the zone of a number that may be in several (mobiles of Russia, Australia, Canada, …), when the list does
    # not say; None: the window must be open in all of them (numbers.timezone_of)
    default_timezone: str | None = None
    windows: CallingWindows = CallingWindows()
    ring_timeout: float = Field(25.0, ge=15.0, le=120.0)  # the law: at least 15 s of ringing
    retry: RetryPolicy = RetryPolicy()
    abandon_cap: float = Field(0.03, gt=0.0, lt=0.2)
    abandon_window: str = Field("30d", pattern=r"^(30d|24h)$")
    abandon_target: float = Field(0.027, gt=0.0, lt=0.2)
    abandon_message: tuple[str, ...] = ("sound:ctiserver/dialer-sorry",)
    # the automated opt-out the law asks of the message (47 CFR 64.1200(a)(7)(i)(A) with (b)(3)): this key,
    # pressed while a message plays (the abandon or the machine message) or within ``opt_out_wait`` s after it,
    # puts the number on the campaign's (or the global) do-not-call list and ends the call (opt_out.py); the
    # message should say so. "" = no key: the message plays and the call ends
    opt_out_key: str = Field("9", pattern=r"^[0-9*]?$")
    opt_out_wait: float = Field(3.0, ge=0.5, le=10.0)
    opt_out_list: str = Field("campaign", pattern=r"^(campaign|global)$")
    repeat_with_agent: RepeatRules = RepeatRules()
    # at most this many calls to one number in any 24 h, over every campaign (Florida, Oklahoma: 3); None: no cap
    max_calls_per_day: int | None = Field(None, ge=1)
    # the law: an agent, or else the message, within 2 s of the end of the callee's greeting (greeting.py)
    agent_wait: float = Field(2.0, gt=0.0, le=2.0)
    amd: bool = True
    # the share of AMD's MACHINE verdicts that were people (a measured, "reasoned" estimate: Ofcom asks for it;
    # the FTC counts such calls as abandoned too): each verdict counts that much of an abandoned live answer in
    # the abandonment ledger (stats.AbandonLedger)
    amd_false_positive_rate: float = Field(0.0, ge=0.0, lt=0.5)
    # the AMD audit: every Nth MACHINE verdict is offered to an agent like a live answer (0: none); the agent's
    # disposition (``answering_machine`` or any other) measures AMD's false-positive rate, which replaces the
    # estimate above once ``amd_audit_min`` audited calls have a disposition in the abandonment window
    amd_audit_every: int = Field(0, ge=0)
    amd_audit_min: int = Field(20, ge=1)
    machine_message: tuple[str, ...] = ()  # left on answering machines (empty: hang up)
    preview_auto_dial: float | None = None  # preview: dial after N s if the agent did not
    # the campaign's calls: "queue" = the recording policy of the campaign's queue; "all", "none", "on_demand"
    # (started by the agent/supervisor through the API) override it
    recording: str = Field("queue", pattern=r"^(queue|all|none|on_demand)$")
    dispositions: tuple[str, ...] = (
        "sale", "no_interest", "call_back", "do_not_call", "wrong_number", "answering_machine",
    )  # fmt: skip
    max_lines_per_agent: float = Field(8.0, gt=0)
    predictive_min_outcomes: int = Field(60, ge=10)  # progressive until this many dial outcomes are known
    # an extra floor of live answers in the window before predictive takes risk (0: the ledger's headroom decides)
    predictive_min_live: int = Field(0, ge=0)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is not None:
            zone(v)  # ValueError: unknown time zone
        return v

    @field_validator("caller_ids")
    @classmethod
    def _prefixes(cls, v: dict[str, str]) -> dict[str, str]:
        for prefix, cid in v.items():
            if not (prefix.startswith("+") and prefix[1:].isdigit()):
                raise ValueError(f"caller_ids: {prefix!r} is not an E.164 prefix (+ and digits)")
            if not cid.lstrip("+").isdigit():
                raise ValueError(f"caller_ids[{prefix}]: {cid!r} is not a number")
        return v

    def caller_id_for(self, number: str) -> str:
        """The caller ID shown to ``number`` (E.164): the longest matching ``caller_ids`` prefix, else
        ``caller_id``."""
        best = max((p for p in self.caller_ids if number.startswith(p)), key=len, default=None)
        return self.caller_ids[best] if best is not None else self.caller_id

    @field_validator("abandon_target")
    @classmethod
    def _target_below_cap(cls, v: float, info: Any) -> float:
        cap = info.data.get("abandon_cap", 0.03)
        if v >= cap:
            raise ValueError(f"abandon_target {v} must be below abandon_cap {cap}")
        return v

    @model_validator(mode="after")
    def _estimate_needs_amd(self) -> CampaignSettings:
        for name in ("amd_false_positive_rate", "amd_audit_every"):
            if getattr(self, name) and not self.amd:
                raise ValueError(f"{name}: the campaign does not run AMD (amd: false)")
        return self

    @property
    def recording_policy(self) -> str | None:
        """The recording service's policy for this campaign's calls (None: the queue's)."""
        return {"queue": None, "all": "always", "none": "never"}.get(self.recording, self.recording)

    @property
    def abandon_window_seconds(self) -> float:
        return 86400.0 if self.abandon_window == "24h" else 30 * 86400.0

    @property
    def machine_repeat_seconds(self) -> float:
        """``repeat_with_agent.machine``, its default following the abandon window's regime."""
        rule = self.repeat_with_agent.machine
        if rule is not None:
            return rule
        return 86400.0 if self.abandon_window == "24h" else 0.0


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    campaign: str
    number: str  # E.164
    timezone: str  # IANA zone of the callee, from the number
    name: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)  # custom fields: shown on the screen-pop
    attempts: int = 0
    next_at: float = 0.0  # wall clock of the earliest next attempt
    status: ContactStatus = ContactStatus.PENDING
    last_outcome: Outcome | None = None
    agent: str | None = None  # personal call-back: only this agent
    priority: int = 0
    attempt: str | None = None  # the attempt in flight (its Originate's ChannelId) while ``dialling``

    def pop_data(self) -> dict[str, Any]:
        return {
            "contact_id": self.id,
            "campaign": self.campaign,
            "number": self.number,
            "name": self.name,
            "timezone": self.timezone,
            "attempts": self.attempts,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One leg the dialer placed, with its outcome (what ``dialer.attempt`` events carry and the DB keeps)."""

    id: str
    campaign: str
    contact_id: str
    number: str
    started: float
    outcome: Outcome
    ended: float
    channel: str | None = None
    agent: str | None = None
    amd_status: str | None = None
    amd_cause: str | None = None
    mode: str = ""
    # when the line reported the callee answered (after AMD's verdict: what the pacer measures as the answer
    # delay, ``answered - started``); None when nobody answered, or when it is not known (the answer came while
    # the AMI link was down: learnt by reconciliation)
    answered: float | None = None
    talk_seconds: float | None = None  # how long the agent talked with the callee (connected calls only)
    connected: float | None = None  # when the agent's phone answered (connected calls; None: not told)
    # connected past the two seconds after the greeting (the agent's phone rang): served, but the law's abandoned
    late: bool = False
    # a MACHINE verdict offered to an agent (``amd_audit_every``): "pending", then the agent's disposition says
    # "person" (AMD was wrong: a false positive) or "machine"; None: not audited
    amd_audit: str | None = None

    @property
    def abandoned(self) -> bool:
        """An abandoned call as the law counts it: nobody took it, or an agent took it too late."""
        return self.outcome is Outcome.ABANDONED or self.late

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.id,
            "campaign": self.campaign,
            "contact_id": self.contact_id,
            "number": self.number,
            "started": self.started,
            "ended": self.ended,
            "outcome": self.outcome.value,
            "channel": self.channel,
            "agent": self.agent,
            "amd_status": self.amd_status,
            "amd_cause": self.amd_cause,
            "mode": self.mode,
            "answered": self.answered,
            "talk_seconds": self.talk_seconds,
            "connected": self.connected,
            "late": self.late,
            "amd_audit": self.amd_audit,
        }


@dataclass(frozen=True, slots=True)
class LedgerCounts:
    """A campaign's stored attempts that the abandonment ledger counts, in one time bucket."""

    start: float  # the bucket's start (epoch-aligned)
    live: int  # live answers: served or abandoned
    abandoned: int  # of them abandoned: nobody took them, or an agent too late
    machines: int = 0  # AMD's MACHINE verdicts (a share were people: the campaign's false-positive estimate)


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """A campaign's attempts started on one UTC day with one outcome (the campaign report's rows)."""

    day: float  # the day's start (epoch, UTC midnight)
    outcome: Outcome
    attempts: int
    talk_seconds: float  # summed over the connected ones
    connected: int  # reached an agent (``connected`` set)
    late: int  # of them past the two seconds
