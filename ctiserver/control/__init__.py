"""The ``CallControl`` seam: the only way ivr/, acd/, dialer/ and recording/ act on calls.

One implementation drives ARI (``ctiserver.control.ari``); unit tests use the in-memory fake
(``ctiserver.control.fake``). Channel ids are ARI channel ids (= AMI Uniqueid).

Every awaitable raises ``ChannelGone`` when the channel hangs up (or is gone) before or while it runs, so a
script can end cleanly with ``except ChannelGone``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ControlError(Exception):
    """A call-control request failed (PBX refused it, link down, ...)."""


class ChannelGone(ControlError):
    """The channel hung up or no longer exists."""

    def __init__(self, channel_id: str, cause: int | None = None) -> None:
        super().__init__(f"channel {channel_id} is gone" + (f" (cause {cause})" if cause is not None else ""))
        self.channel_id = channel_id
        self.cause = cause


class DialFailed(ControlError):
    """An outbound leg did not answer: ``reason`` is busy / noanswer / congestion / failed / unavailable."""

    def __init__(self, endpoint: str, reason: str, cause: int | None = None) -> None:
        super().__init__(f"dial {endpoint} failed: {reason}" + (f" (cause {cause})" if cause is not None else ""))
        self.endpoint = endpoint
        self.reason = reason
        self.cause = cause


class BridgeKind(StrEnum):
    MIXING = "mixing"
    HOLDING = "holding"


@dataclass(frozen=True, slots=True)
class PlayResult:
    """How a playback ended: ``digit`` is the DTMF that interrupted it (barge-in), else None."""

    completed: bool
    digit: str | None = None


@dataclass(frozen=True, slots=True)
class Collected:
    """Digits collected; ``terminated_by`` is the terminator pressed, ``timed_out`` if input stopped."""

    digits: str
    terminated_by: str | None = None
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class DialRequest:
    endpoint: str  # "PJSIP/1001", "Local/5551234@ctiserver-outbound", ...
    caller_id_number: str = ""
    caller_id_name: str = ""
    timeout: float = 30.0
    variables: Mapping[str, str] = field(default_factory=dict)
    originator: str | None = None  # channel id whose linkedid the new leg should share
    app_args: Sequence[str] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. auto-answer SIP headers


@dataclass(frozen=True, slots=True)
class StasisPresence:
    """Whether our Stasis application is on the PBX now (its events WebSocket is up): while it is not,
    ``Stasis()`` in the dialplan fails (``STASISSTATUS=FAILED``). Provided by the control component."""

    connected: asyncio.Event

    def is_up(self) -> bool:
        return self.connected.is_set()


class CallControl(Protocol):
    async def answer(self, channel_id: str) -> None: ...

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str | None = None, barge_in: bool = False
    ) -> PlayResult:
        """Play media URIs ("sound:hello-world") one after another; wait until done or a DTMF barges in."""
        ...

    async def stop_playback(self, channel_id: str) -> None: ...

    async def collect_dtmf(
        self,
        channel_id: str,
        *,
        max_digits: int,
        first_digit_timeout: float,
        inter_digit_timeout: float,
        terminators: str = "#",
    ) -> Collected:
        """Wait for digits (including any buffered since the last call)."""
        ...

    async def set_variable(self, channel_id: str, name: str, value: str) -> None: ...

    async def get_variable(self, channel_id: str, name: str) -> str | None: ...

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None: ...

    async def stop_moh(self, channel_id: str) -> None: ...

    async def ring(self, channel_id: str) -> None: ...

    async def create_bridge(self, kind: BridgeKind = BridgeKind.MIXING, name: str = "") -> str: ...

    async def add_to_bridge(self, bridge_id: str, channel_ids: Sequence[str]) -> None: ...

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None: ...

    async def destroy_bridge(self, bridge_id: str) -> None: ...

    async def dial(self, request: DialRequest) -> str:
        """Originate a leg into our Stasis app and wait until it answers; return its channel id.

        Raises ``DialFailed`` on busy/no answer/failure.
        """
        ...

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        """Hand the channel back to the dialplan (transfer to an extension / external number)."""
        ...

    async def record(
        self, target: str, name: str, *, fmt: str = "wav", bridge: bool = False
    ) -> str:
        """Start recording a channel (or a bridge when ``bridge``); return the recording name."""
        ...

    async def pause_recording(self, name: str) -> None: ...

    async def resume_recording(self, name: str) -> None: ...

    async def stop_recording(self, name: str) -> None: ...

    async def recording_live(self, name: str) -> bool:
        """Whether the PBX still records ``name`` (False once it ended, whoever ended it)."""
        ...

    async def hangup(self, channel_id: str, reason: str = "normal") -> None: ...

    async def wait_hangup(self, channel_id: str) -> None:
        """Return when the channel is gone (never raises ChannelGone)."""
        ...
