"""Asterisk Manager Interface: sans-I/O codec (``codec``), typed messages (``messages``), asyncio client."""

from ctiserver.pbx.ami.messages import (
    AmiBanner,
    AmiEvent,
    AmiEventList,
    AmiMessage,
    AmiProtocolError,
    AmiResponse,
    Message,
)

__all__ = [
    "AmiBanner",
    "AmiEvent",
    "AmiEventList",
    "AmiMessage",
    "AmiProtocolError",
    "AmiResponse",
    "Message",
]
