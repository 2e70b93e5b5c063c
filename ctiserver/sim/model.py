"""The simulated PBX's objects: channels (with an explicit state machine), bridges, endpoints, playbacks."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Any


class ChanState(enum.IntEnum):
    """Asterisk's channel states (``ChannelState`` / ``ChannelStateDesc``)."""

    DOWN = 0
    RSRVD = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def desc(self) -> str:
        return _DESC[self]


_DESC = {
    ChanState.DOWN: "Down",
    ChanState.RSRVD: "Rsrvd",
    ChanState.OFFHOOK: "OffHook",
    ChanState.DIALING: "Dialing",
    ChanState.RING: "Ring",
    ChanState.RINGING: "Ringing",
    ChanState.UP: "Up",
    ChanState.BUSY: "Busy",
}

TRANSITIONS: dict[ChanState, frozenset[ChanState]] = {
    ChanState.DOWN: frozenset({ChanState.RING, ChanState.RINGING, ChanState.UP, ChanState.BUSY}),
    ChanState.RING: frozenset({ChanState.RINGING, ChanState.UP}),
    ChanState.RINGING: frozenset({ChanState.UP, ChanState.BUSY}),
    ChanState.UP: frozenset(),
    ChanState.BUSY: frozenset(),
}


class IllegalTransition(Exception):
    pass


CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    127: "Interworking, unspecified",
}


@dataclass(eq=False)
class Channel:
    id: str  # uniqueid
    name: str
    linkedid: str
    endpoint: str  # tech/resource, e.g. PJSIP/1001
    created: float
    caller_name: str = ""
    caller_num: str = ""
    connected_name: str = ""
    connected_num: str = ""
    language: str = "en"
    accountcode: str = ""
    context: str = ""
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    state: ChanState = ChanState.DOWN
    protocol_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    bridge: Bridge | None = None
    stasis_app: str | None = None  # app the channel is currently in (Stasis)
    stasis_args: tuple[str, ...] = ()
    subscribed: set[str] = field(default_factory=set)  # ARI apps subscribed to this channel
    hangup_requested: bool = False
    hung_up: bool = False
    hangup_cause: int = 16
    tech_cause: int | None = None  # SIP status that caused the hangup (TechCause / tech_cause)
    hangup_source: str = ""  # ast_channel_hangupsource (ctiserver.sim.hangup_source)
    answered_at: float | None = None
    moh_class: str | None = None
    ringing_since: float | None = None
    dtmf_mode: str = "rfc4733"
    done: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    stasis_left: asyncio.Event = field(default_factory=asyncio.Event)
    mixmonitor: Any = None
    tags: dict[str, Any] = field(default_factory=dict)

    def set_state(self, new: ChanState) -> bool:
        """Move to ``new``; returns False when already there; raises on an illegal transition."""
        if new == self.state:
            return False
        if new not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.name}: {self.state.desc} -> {new.desc}")
        self.state = new
        return True

    @property
    def tech(self) -> str:
        return self.endpoint.split("/", 1)[0]

    def var(self, name: str) -> str | None:
        """``${NAME}``: as Asterisk (``ast_var_name``), a variable set as ``_NAME`` or ``__NAME`` (inherited by
        the channels this one dials) is found by its name without the underscores."""
        key = var_key(name)
        for stored, value in self.variables.items():
            if var_key(stored) == key:
                return value
        return None


def var_key(name: str) -> str:
    """A variable's name without the inheritance prefix (``__X``, ``_X`` → ``X``)."""
    return name[2:] if name.startswith("__") else name[1:] if name.startswith("_") else name


@dataclass(eq=False)
class Bridge:
    id: str
    bridge_type: str  # mixing | holding
    bridge_class: str  # stasis | basic
    creator: str
    name: str
    created: float
    technology: str = "simple_bridge"
    channels: list[Channel] = field(default_factory=list)
    video_mode: str = "talker"
    moh_class: str | None = None
    recording: Any = None
    destroyed: bool = False
    subscribed: set[str] = field(default_factory=set)

    @property
    def ami_type(self) -> str:
        return "stasis" if self.bridge_class == "stasis" else "basic"


@dataclass(eq=False)
class Endpoint:
    resource: str
    tech: str = "PJSIP"
    callerid_name: str = ""
    callerid_num: str = ""
    context: str = "from-agents"
    registered: bool = False
    answer_after: float | None = 1.0
    hangup_after: float | None = None
    answer_sampler: Any = None  # () -> float: a fresh ring delay per call (traffic generator)
    # the phone's auto-answer is on: an INVITE that asks for it (``asks_auto_answer``) is answered at once
    auto_answer: bool = True
    channels: set[str] = field(default_factory=set)
    last_device_state: str = "UNAVAILABLE"

    @property
    def name(self) -> str:
        return f"{self.tech}/{self.resource}"

    def device_state(self) -> str:
        if not self.channels:
            return "NOT_INUSE" if self.registered else "UNAVAILABLE"
        return "BUSY"  # device_state_busy_at = 1 in the traces' pjsip.conf

    def ari_state(self) -> str:
        return "online" if self.registered else "offline"


@dataclass(eq=False)
class Playback:
    id: str
    media_uri: str
    target_uri: str
    language: str = "en"
    state: str = "queued"
    task: asyncio.Task[None] | None = None
    app: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "media_uri": self.media_uri,
            "target_uri": self.target_uri,
            "language": self.language,
            "state": self.state,
        }


@dataclass(eq=False)
class LiveRecording:
    name: str
    format: str
    target_uri: str
    path: str
    started: float
    state: str = "queued"
    muted: bool = False
    paused_total: float = 0.0
    paused_at: float | None = None
    app: str | None = None

    def to_json(self, duration: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": self.target_uri,
        }
        if duration is not None:
            out["duration"] = duration
        return out
