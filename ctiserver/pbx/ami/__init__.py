"""Asterisk Manager Interface: sans-I/O codec (``codec``), typed messages (``messages``), asyncio client
(``client.AmiClient``) and its errors (``errors``)."""

from ctiserver.pbx.ami.codec import AmiDecoder, decode_all, encode_action, encode_message
from ctiserver.pbx.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiError,
    AmiLinkLost,
    AmiNotConnected,
    AmiTimeout,
)
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
    "AmiActionError",
    "AmiAuthError",
    "AmiBanner",
    "AmiDecoder",
    "AmiError",
    "AmiEvent",
    "AmiEventList",
    "AmiLinkLost",
    "AmiMessage",
    "AmiNotConnected",
    "AmiProtocolError",
    "AmiResponse",
    "AmiTimeout",
    "Message",
    "decode_all",
    "encode_action",
    "encode_message",
]
