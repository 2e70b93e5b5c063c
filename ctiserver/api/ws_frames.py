"""The frames the hub writes: an event's JSON once, and the complete WebSocket frame around it once, for every
session that sends it.

Live events go straight to the session's transport as ready-made RFC 6455 frames (see ``WsSession.deliver``):
through ``WebSocketResponse.send_str`` each of the ~19 frames a call sends to its agent's console cost a
coroutine, an encode and a ``send`` of its own, the largest share of the daemon's CPU at 100 calls/s
(``bench/screen_pop.py``).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    """An event's ``{"op": "event", ...}`` JSON and the same as a complete WebSocket text frame."""

    payload: bytes
    wire: bytes


def text_frame(payload: bytes) -> bytes:
    """RFC 6455 §5.2: a final, unmasked (server to client) text frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class FrameCache:
    """An event's frame, built once for every session that sends it. An ``OrderedDict``: a plain dict emptied
    from the front makes ``next(iter(d))`` step over every deleted slot until it is rebuilt."""

    def __init__(self, size: int = 4096) -> None:
        self._frames: OrderedDict[str, Frame] = OrderedDict()
        self._size = size

    def get(self, event_id: str) -> Frame | None:
        return self._frames.get(event_id)

    def put(self, event_id: str, frame: Frame) -> None:
        if len(self._frames) >= self._size:
            self._frames.popitem(last=False)  # the oldest
        self._frames[event_id] = frame
