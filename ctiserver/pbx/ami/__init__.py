"""Asterisk Manager Interface: sans-I/O codec (``codec``), typed messages (``messages``), asyncio client
(``client.AmiClient``) and its errors (``errors``).

Why not the libraries of the design brief (both were evaluated; panoramisk stays a dev dependency as the
benchmark's peer, bench/ami_ingest.py):

* panoramisk decodes every TCP read on its own with ``errors="ignore"``, so a UTF-8 character split across two
  reads is dropped ("Иван Петров" loses letters); after a reconnect it re-sends the actions that were
  awaiting an answer (a re-sent Originate re-dials a customer); and its per-line Python parser is 4-6 times
  slower than this codec on the load capture.
* pyst2's manager is thread-based on blocking sockets (one reader thread, callbacks on it), which does not
  fit an asyncio daemon, and it has neither reconnect nor bounded buffering; its AGI half is not needed (IVR
  runs on ARI).
"""

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
