"""The ``acd:`` configuration section: skills, pause reasons, agents and queues."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Level = int  # 1..10


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    BEST_SKILL = "best_skill"
    LEAST_OCCUPIED = "least_occupied"
    LEAST_SKILLED = "least_skilled"  # keep specialists free: the least qualified agent who meets the need


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_levels(levels: dict[str, int], *, minimum: int) -> dict[str, int]:
    for skill, level in levels.items():
        if not minimum <= level <= 10:
            raise ValueError(f"skill {skill!r}: level {level} is outside {minimum}..10")
    return levels


class AgentConfig(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    device: str = Field(min_length=1, description="PJSIP/1001, Local/5551234@ctiserver-outbound, ...")
    skills: dict[str, Level] = {}
    auto_answer: bool = False
    login: bool = False  # log in (ready) at start when no state was persisted

    @field_validator("skills")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_levels(v, minimum=1)


class RelaxRule(_Model):
    """After ``after`` seconds of waiting, the call's requirement becomes ``requirements`` (levels 0 drop a
    skill; an empty mapping means any agent of the queue), optionally picked with another ``strategy``."""

    after: float = Field(gt=0)
    requirements: dict[str, int] = {}
    strategy: Strategy | None = None

    @field_validator("requirements")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_levels(v, minimum=0)


class Overflow(_Model):
    after: float = Field(gt=0)
    queue: str


class Announcements(_Model):
    every: float = Field(30.0, gt=0)
    first_after: float = Field(5.0, ge=0)
    position: bool = True
    ewt: bool = True


class CallbackOption(_Model):
    enabled: bool = False
    digit: str = Field("1", pattern=r"^[0-9*#]$")
    endpoint: str = "Local/{number}@ctiserver-outbound"  # where the call-back is dialled
    attempts: int = Field(3, ge=1, description="dial attempts before the call-back is given up")
    retry_after: float = Field(
        120.0, ge=0, description="seconds before a customer who did not answer (busy, no answer) is dialled again"
    )
    offer_media: tuple[str, ...] = ("sound:queue-callback-offer",)
    confirm_media: tuple[str, ...] = ("sound:queue-callback-confirmed",)


class QueueConfig(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    requirements: dict[str, int] = {}
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = 0
    wrapup: float = Field(10.0, ge=0)
    ring_timeout: float = Field(15.0, gt=0)
    max_wait: float | None = Field(None, gt=0)
    relax: tuple[RelaxRule, ...] = ()
    overflow: Overflow | None = None
    announcements: Announcements | None = None
    moh: str = "default"
    callback: CallbackOption = CallbackOption()
    auto_answer_header: str | None = None  # e.g. "Call-Info=answer-after=0"
    timeout_exit: str | None = Field(
        None, pattern=r"^[^,]+,[^,]+(,\d+)?$", description="context,extension[,priority] after max wait"
    )
    timeout_media: tuple[str, ...] = ("sound:vm-nobodyavail",)
    survey: str | None = Field(
        None, min_length=1, description="IVR script run for the caller when the agent hangs up first"
    )

    @field_validator("requirements")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_levels(v, minimum=1)

    @field_validator("relax")
    @classmethod
    def _ordered(cls, v: tuple[RelaxRule, ...]) -> tuple[RelaxRule, ...]:
        afters = [r.after for r in v]
        if afters != sorted(afters):
            raise ValueError("relax rules must be listed by increasing 'after'")
        return v


class AcdConfig(_Model):
    enabled: bool = True
    skills: tuple[str, ...] = ()
    pause_reasons: tuple[str, ...] = ("break", "lunch", "training", "meeting", "missed", "unreachable")
    dispositions: tuple[str, ...] = ("resolved", "follow_up", "sale", "complaint", "wrong_number")
    agents: tuple[AgentConfig, ...] = ()
    queues: tuple[QueueConfig, ...] = ()
    aging_per_minute: float = Field(1.0, ge=0, description="priority points a waiting call gains per minute")
    wrapup_max_extension: float = Field(120.0, ge=0)
    missed_reason: str = "missed"
    unreachable_reason: str = "unreachable"
    observer: bool = False  # track app_queue from AMI as well
    transfer_context: str = "from-agents"  # dialplan context for transfers to numbers

    @model_validator(mode="after")
    def _consistent(self) -> AcdConfig:
        names = [q.name for q in self.queues]
        if len(names) != len(set(names)):
            raise ValueError("queue names must be unique")
        ids = [a.id for a in self.agents]
        if len(ids) != len(set(ids)):
            raise ValueError("agent ids must be unique")
        known = set(self.skills)
        for q in self.queues:
            if q.overflow and q.overflow.queue not in names:
                raise ValueError(f"queue {q.name}: overflow to unknown queue {q.overflow.queue!r}")
            used = set(q.requirements) | {s for r in q.relax for s in r.requirements}
            if known and used - known:
                raise ValueError(f"queue {q.name}: unknown skills {sorted(used - known)}")
        for a in self.agents:
            if known and set(a.skills) - known:
                raise ValueError(f"agent {a.id}: unknown skills {sorted(set(a.skills) - known)}")
        for reason in (self.missed_reason, self.unreachable_reason):
            if reason not in self.pause_reasons:
                raise ValueError(f"pause reason {reason!r} must be in pause_reasons")
        return self

    def queue(self, name: str) -> QueueConfig:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(name)
