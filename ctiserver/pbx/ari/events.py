"""Typed ARI events (the ``events.json`` models of Asterisk's swagger) and ``parse_event``.

``parse_event(obj)`` never raises: an unknown ``type`` or a known one whose required parts are missing becomes
an ``UnknownEvent`` carrying the raw mapping (and the reason).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ctiserver.pbx.ari.resources import (
    Bridge,
    Channel,
    ContactInfo,
    DeviceState,
    Endpoint,
    LiveRecording,
    Malformed,
    Peer,
    Playback,
    build,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AriEvent:
    type: str
    application: str = ""
    timestamp: str = ""
    asterisk_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(AriEvent):
    raw: dict[str, Any] = field(default_factory=dict, hash=False)
    reason: str = ""


# ----------------------------------------------------------------------------------------- channel events
@dataclass(frozen=True, slots=True, kw_only=True)
class StasisStart(AriEvent):
    channel: Channel
    args: tuple[str, ...] = ()
    replace_channel: Channel | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StasisEnd(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDestroyed(AriEvent):
    channel: Channel
    cause: int = 0
    cause_txt: str = ""
    tech_cause: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChange(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDtmfReceived(AriEvent):
    channel: Channel
    digit: str = ""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDialplan(AriEvent):
    channel: Channel
    dialplan_app: str = ""
    dialplan_app_data: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCallerId(AriEvent):
    channel: Channel
    caller_presentation: int = 0
    caller_presentation_txt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelConnectedLine(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHangupRequest(AriEvent):
    """``cause`` is NOT a Q.850 cause for a DELETE (32 = soft hangup flag); absent for a remote BYE."""

    channel: Channel
    cause: int | None = None
    tech_cause: int | None = None
    soft: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelVarset(AriEvent):
    variable: str = ""
    value: str = ""
    channel: Channel | None = None  # absent for global variables


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHold(AriEvent):
    channel: Channel
    musicclass: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelUnhold(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelToneDetected(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelTalkingStarted(AriEvent):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelTalkingFinished(AriEvent):
    channel: Channel
    duration: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelUserevent(AriEvent):
    eventname: str = ""
    userevent: dict[str, Any] = field(default_factory=dict, hash=False)
    channel: Channel | None = None
    bridge: Bridge | None = None
    endpoint: Endpoint | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial(AriEvent):
    peer: Channel
    caller: Channel | None = None
    dialstatus: str = ""  # "" while ringing starts, then RINGING, ANSWER, BUSY, NOANSWER, CANCEL...
    dialstring: str = ""
    forward: str = ""
    forwarded: Channel | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationMoveFailed(AriEvent):
    channel: Channel
    destination: str = ""
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallClaimed(AriEvent):
    channel: Channel
    winner_app: str = ""


# ----------------------------------------------------------------------------------------- bridge events
@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeCreated(AriEvent):
    bridge: Bridge


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeDestroyed(AriEvent):
    bridge: Bridge


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeMerged(AriEvent):
    bridge: Bridge
    bridge_from: Bridge


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeVideoSourceChanged(AriEvent):
    bridge: Bridge
    old_video_source_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEnteredBridge(AriEvent):
    bridge: Bridge
    channel: Channel | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLeftBridge(AriEvent):
    bridge: Bridge
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeBlindTransfer(AriEvent):
    channel: Channel
    exten: str = ""
    context: str = ""
    result: str = ""
    is_external: bool = False
    replace_channel: Channel | None = None
    transferee: Channel | None = None
    bridge: Bridge | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeAttendedTransfer(AriEvent):
    transferer_first_leg: Channel
    transferer_second_leg: Channel
    result: str = ""
    is_external: bool = False
    destination_type: str = ""
    destination_bridge: str = ""
    destination_application: str = ""
    replace_channel: Channel | None = None
    transferee: Channel | None = None
    transfer_target: Channel | None = None
    transferer_first_leg_bridge: Bridge | None = None
    transferer_second_leg_bridge: Bridge | None = None


# ----------------------------------------------------------------------------------------- media events
@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackStarted(AriEvent):
    playback: Playback


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackContinuing(AriEvent):
    playback: Playback


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackFinished(AriEvent):
    playback: Playback


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(AriEvent):
    recording: LiveRecording


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFinished(AriEvent):
    recording: LiveRecording


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFailed(AriEvent):
    recording: LiveRecording


# ----------------------------------------------------------------------------------------- endpoint/device
@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointStateChange(AriEvent):
    endpoint: Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactStatusChange(AriEvent):
    endpoint: Endpoint
    contact_info: ContactInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerStatusChange(AriEvent):
    endpoint: Endpoint
    peer: Peer


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStateChanged(AriEvent):
    device_state: DeviceState


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessageReceived(AriEvent):
    message: dict[str, Any] = field(default_factory=dict, hash=False)
    endpoint: Endpoint | None = None


# ----------------------------------------------------------------------------------------- application
@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationReplaced(AriEvent):
    """Another WebSocket registered the same application name: this one no longer gets its events."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationRegistered(AriEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationUnregistered(AriEvent):
    pass


EVENT_TYPES: dict[str, type[AriEvent]] = {
    cls.__name__: cls
    for cls in (
        StasisStart, StasisEnd, ChannelCreated, ChannelDestroyed, ChannelStateChange, ChannelDtmfReceived,
        ChannelDialplan, ChannelCallerId, ChannelConnectedLine, ChannelHangupRequest, ChannelVarset,
        ChannelHold, ChannelUnhold, ChannelToneDetected, ChannelTalkingStarted, ChannelTalkingFinished,
        ChannelUserevent, Dial, ApplicationMoveFailed, CallClaimed, BridgeCreated, BridgeDestroyed,
        BridgeMerged, BridgeVideoSourceChanged, ChannelEnteredBridge, ChannelLeftBridge, BridgeBlindTransfer,
        BridgeAttendedTransfer, PlaybackStarted, PlaybackContinuing, PlaybackFinished, RecordingStarted,
        RecordingFinished, RecordingFailed, EndpointStateChange, ContactStatusChange, PeerStatusChange,
        DeviceStateChanged, TextMessageReceived, ApplicationReplaced, ApplicationRegistered,
        ApplicationUnregistered,
    )
}  # fmt: skip


def parse_event(obj: Any) -> AriEvent:
    """Decoded JSON of one WebSocket message → its typed event; never raises."""
    if not isinstance(obj, dict):
        return UnknownEvent(type="", raw={"value": obj}, reason="not a JSON object")
    kind = obj.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return UnknownEvent(
            type=kind if isinstance(kind, str) else "",
            application=_s(obj.get("application")),
            timestamp=_s(obj.get("timestamp")),
            asterisk_id=_s(obj.get("asterisk_id")),
            raw=obj,
            reason="unknown event type",
        )
    try:
        return build(cls, obj)
    except (Malformed, TypeError, ValueError) as exc:
        return UnknownEvent(
            type=str(kind),
            application=_s(obj.get("application")),
            timestamp=_s(obj.get("timestamp")),
            raw=obj,
            reason=str(exc),
        )


def parse_event_text(text: str | bytes) -> AriEvent:
    """One WebSocket text frame → event; invalid JSON becomes an ``UnknownEvent`` too."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        shown = text[:200] if isinstance(text, str) else text[:200].decode("utf-8", "replace")
        return UnknownEvent(type="", raw={"text": shown}, reason=f"invalid JSON: {exc}")
    return parse_event(obj)


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ""
