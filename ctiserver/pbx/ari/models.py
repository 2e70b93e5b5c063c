"""ARI models: typed resources (``resources``) and events (``events``) in one import place."""

from ctiserver.pbx.ari.events import *  # noqa: F403
from ctiserver.pbx.ari.events import EVENT_TYPES, AriEvent, UnknownEvent, parse_event, parse_event_text
from ctiserver.pbx.ari.resources import (
    Application,
    AsteriskInfo,
    Bridge,
    CallerID,
    Channel,
    ContactInfo,
    DeviceState,
    DialplanCEP,
    Endpoint,
    LiveRecording,
    Malformed,
    Peer,
    Playback,
    StoredRecording,
    build,
)

__all__ = [
    "EVENT_TYPES",
    "Application",
    "AriEvent",
    "AsteriskInfo",
    "Bridge",
    "CallerID",
    "Channel",
    "ContactInfo",
    "DeviceState",
    "DialplanCEP",
    "Endpoint",
    "LiveRecording",
    "Malformed",
    "Peer",
    "Playback",
    "StoredRecording",
    "UnknownEvent",
    "build",
    "parse_event",
    "parse_event_text",
    *EVENT_TYPES,
]
