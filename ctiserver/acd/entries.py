"""A call in the ACD: what the caller asked for, where it waits, and how its stay ended."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ctiserver.acd.routing import Waiting


class Outcome(StrEnum):
    ANSWERED = "answered"  # talked to an agent (the conversation is over when enqueue returns)
    ABANDONED = "abandoned"  # the caller hung up while waiting or while an agent was being rung
    TIMEOUT = "timeout"  # max wait reached: the script continues at its max-wait exit
    CALLBACK = "callback"  # the caller asked to be called back (and hung up); the call-back is ACD work now
    TRANSFERRED = "transferred"  # an agent sent the caller to a number outside the ACD


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """What the IVR ``queue`` node (or the API) hands to the ACD."""

    call_id: str
    channel_id: str
    queue: str
    caller_number: str = ""
    caller_name: str = ""
    requirements: Mapping[str, int] | None = None  # None: the queue's own
    priority: int | None = None  # None: the queue's own (e.g. VIP from the CRM lookup raises it)
    attached: Mapping[str, Any] = field(default_factory=dict)
    only_agent: str | None = None  # transfers to one agent
    # the call's own recording policy instead of the queue's ("always" | "never" | "on_demand"): a dialer
    # campaign's, whose calls go through the campaign's queue
    recording: str | None = None


@dataclass(frozen=True, slots=True)
class QueueResult:
    outcome: Outcome
    queue: str
    waited: float
    agent: str | None = None


@dataclass(slots=True)
class Entry:
    request: QueueRequest
    waiting: Waiting
    attached: dict[str, Any]
    channel_id: str | None  # None once the caller hung up for a call-back
    done: asyncio.Future[QueueResult]
    callback_number: str | None = None
    callback_attempts: int = 0  # call-backs whose customer did not answer
    hold_task: asyncio.Task[None] | None = None
    announced: int = 0
    legs: list[str] = field(default_factory=list)  # agent legs that served this call (transfer legs too)
    transfer_to: tuple[str, str | None] | None = None  # blind transfer back into the ACD: (queue, agent)
    transfer_number: str | None = None  # blind transfer out of the ACD
    final_agent: str | None = None  # who has the caller after an attended transfer

    @property
    def call_id(self) -> str:
        return self.waiting.call_id

    @property
    def is_callback(self) -> bool:
        return self.callback_number is not None

    @property
    def outbound(self) -> bool:
        """A dialler's call (the campaign's attempt, connected to an agent through the queue): not an inbound
        caller's stay, so not one the queue's KPIs count (its ``queue.*`` events say ``outbound: true``)."""
        return bool(self.attached.get("dialer_attempt"))
