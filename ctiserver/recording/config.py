"""The ``recording:`` configuration section."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Policy(StrEnum):
    ALWAYS = "always"  # every bridged conversation of the queue
    NEVER = "never"
    ON_DEMAND = "on_demand"  # only when an agent/supervisor starts it through the API


class QueuePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: Policy = Policy.ALWAYS
    retention_days: float | None = Field(None, gt=0)


class RecordingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: str = Field("var/recordings", description="where the PBX writes the files (shared mount)")
    format: str = Field("wav", pattern=r"^(wav|gsm|ulaw|alaw|sln|g722|wav49)$")
    default_policy: Policy = Policy.ALWAYS
    retention_days: float = Field(90.0, gt=0)
    queues: dict[str, QueuePolicy] = {}
    app_queue: bool = Field(
        False,
        description="observer mode: record app_queue calls by their queue's policy (MixMonitor on the caller's "
        "channel when an agent answers); off: on demand only (queues.conf may record them itself)",
    )
    wait_for_file: float = Field(
        5.0, ge=0, description="seconds to wait for the file after the recording ends"
    )

    def policy(self, queue: str | None) -> Policy:
        q = self.queues.get(queue or "")
        return q.policy if q is not None else self.default_policy

    def retention(self, queue: str | None) -> float:
        q = self.queues.get(queue or "")
        return q.retention_days if q is not None and q.retention_days is not None else self.retention_days
