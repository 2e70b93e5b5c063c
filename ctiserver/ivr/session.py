"""What the IVR records on a call: the path (node, time, digits, result), variables, contact and outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ctiserver.ivr.ports import Contact


class IvrEnd(StrEnum):
    """How the script left the call."""

    HANGUP = "hangup"  # the script hung up
    QUEUE = "queue"  # handed to the ACD
    TRANSFER = "transfer"  # sent to an extension / external number
    CALLER_HANGUP = "caller_hangup"  # the caller hung up inside the IVR
    RETURN = "return"  # a top-level ``return``
    ERROR = "error"  # the PBX refused a request, a loop limit was hit...
    INTERRUPTED = "interrupted"  # the daemon stopped while the script ran


@dataclass(frozen=True, slots=True)
class CallInfo:
    call_id: str
    channel_id: str
    caller_number: str = ""
    caller_name: str = ""
    did: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class IvrStep:
    at: float
    script: str
    version: str
    node: str
    kind: str
    label: str | None = None
    digits: str | None = None
    result: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class IvrSession:
    call: CallInfo
    script: str
    version: str
    started_at: float
    steps: list[IvrStep] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)  # everything scripts see as vars.* (defaults too)
    attached: dict[str, str] = field(default_factory=dict)  # what the call set/collected: travels with it
    prompts: list[str] = field(default_factory=list)
    contact: Contact | None = None
    outcome: str | None = None  # "self_service" when the caller's need was met in the IVR, "callback", ...
    end: IvrEnd | None = None
    target: str | None = None  # queue name / transfer destination
    ended_at: float | None = None

    @property
    def path(self) -> list[str]:
        return [s.node for s in self.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call.call_id,
            "channel_id": self.call.channel_id,
            "caller_number": self.call.caller_number,
            "did": self.call.did,
            "script": self.script,
            "version": self.version,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "steps": [s.to_dict() for s in self.steps],
            "vars": dict(self.vars),
            "attached": dict(self.attached),
            "prompts": list(self.prompts),
            "contact": self.contact.as_context() if self.contact else None,
            "outcome": self.outcome,
            "end": self.end.value if self.end else None,
            "target": self.target,
        }
