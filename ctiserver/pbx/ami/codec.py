"""Sans-I/O AMI codec: bytes in -> frozen typed messages out; actions/messages -> bytes.

Framing works on *bytes*: a frame ends at an empty line (CRLF CRLF, or LF LF from lenient peers) and only a
complete frame is decoded as UTF-8, so a multi-byte character split across two TCP reads is never damaged
(panoramisk decodes each read separately and drops such characters). Memory is bounded: a frame that grows
past ``max_frame`` bytes without a terminator, or a line longer than ``max_line``, raises ``AmiProtocolError``
(carrying the good messages of the same read); the decoder drops the offending bytes up to the next frame
boundary and goes on.

The first line of a connection (``Asterisk Call Manager/11.0.0``, no blank line after it) is reported as an
``AmiBanner`` when ``expect_banner=True`` (the client; a capture taken after login does not have it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ctiserver.pbx.ami.fastpath import events as _events
from ctiserver.pbx.ami.frame import parse_frame
from ctiserver.pbx.ami.messages import AmiBanner, AmiEvent, AmiProtocolError, Message

try:  # the same fast path compiled (setup.py builds it when a C compiler is present)
    from ctiserver.pbx.ami._fastpath import events as _events
except ImportError:  # pragma: no cover - pure-Python install
    pass

ACCELERATED = _events.__module__ != "ctiserver.pbx.ami.fastpath"

MAX_FRAME = 1 << 20  # 1 MiB: CoreShowChannels of a big box is a list of events, not one frame
MAX_LINE = 64 << 10

Headers = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


class AmiDecoder:
    """Incremental AMI parser. ``feed(data)`` returns every message completed by ``data``, in wire order.

    On bad input ``feed`` raises ``AmiProtocolError`` whose ``messages`` holds every good message of the same
    call (nothing valid is lost); the decoder stays usable and resynchronises at the next frame boundary.
    """

    __slots__ = (
        "_buf",
        "_fast_limit",
        "_skipping",
        "_want_banner",
        "bad_utf8_frames",
        "max_frame",
        "max_line",
    )

    def __init__(
        self, *, expect_banner: bool = False, max_frame: int = MAX_FRAME, max_line: int = MAX_LINE
    ) -> None:
        self._buf = b""
        self._want_banner = expect_banner
        self._skipping = False
        self.max_frame = max_frame
        self.max_line = max_line
        self._fast_limit = min(max_frame, max_line)  # a frame this short can break neither limit
        self.bad_utf8_frames = 0  # frames that were not valid UTF-8 (decoded with U+FFFD replacements)

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the end of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf + data if self._buf else bytes(data)
        out: list[Message] = []
        errors: list[str] = []
        if self._want_banner:
            buf = self._banner(buf, out, errors)
            if self._want_banner:
                return out
        if not self._skipping:
            # the common case: complete CRLF frames of events (see _events)
            end = buf.rfind(b"\r\n\r\n")
            if end > 0:
                rest = buf[end + 4 :]
                # a complete LF-terminated frame after the last CRLF one: the normalising path below parses it now
                if len(rest) <= self.max_frame and b"\n\n" not in rest:
                    try:
                        text = buf[:end].decode("utf-8")
                    except UnicodeDecodeError:
                        text = ""
                    # a non-ASCII frame of N characters may take up to 4 N bytes
                    limit = self._fast_limit if text.isascii() else self._fast_limit >> 2
                    if text and text[0] != "\r" and _events(text, limit, out):
                        self._buf = rest
                        return out
        # Asterisk ends lines with CRLF: frames split at CRLF CRLF without copying. A peer that sends bare LF
        # anywhere in this buffer gets its line ends normalised first (slower, same result).
        if buf.count(b"\n") == buf.count(b"\r\n"):
            nl, sep = "\r\n", b"\r\n\r\n"
        else:
            buf = buf.replace(b"\r\n", b"\n")
            nl, sep = "\n", b"\n\n"
        if self._skipping:
            # the rest of an oversized frame already reported: drop it up to the next boundary
            end = buf.find(sep)
            if end < 0:
                self._buf = buf[-3:]
                return out
            self._skipping = False
            buf = buf[end + len(sep) :]
        end = buf.rfind(sep)
        if end < 0:
            self._buf = buf
        else:
            self._buf = buf[end + len(sep) :]
            self._frames(buf[:end], nl, out, errors)
        if len(self._buf) > self.max_frame:
            errors.append(f"AMI frame exceeds {self.max_frame} bytes without a terminator")
            self._buf = b""
            self._skipping = True
        if errors:
            raise AmiProtocolError("; ".join(errors), messages=out)
        return out

    def _banner(self, buf: bytes, out: list[Message], errors: list[str]) -> bytes:
        nl = buf.find(b"\n")
        if nl < 0:
            if len(buf) > self.max_line:
                self._want_banner = False
                errors.append(f"no AMI banner line within {self.max_line} bytes")
                return b""
            self._buf = buf
            return buf
        self._want_banner = False
        out.append(AmiBanner(buf[:nl].rstrip(b"\r").decode("utf-8", "replace")))
        return buf[nl + 1 :]

    def _frames(self, region: bytes, nl: str, out: list[Message], errors: list[str]) -> None:
        sep = nl + nl
        try:
            frames = region.decode("utf-8").split(sep)
        except UnicodeDecodeError:
            frames = []
            for raw in region.split(sep.encode()):
                try:
                    frames.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    self.bad_utf8_frames += 1
                    frames.append(raw.decode("utf-8", "replace"))
        max_frame, max_line = self.max_frame, self.max_line
        limit = min(max_frame, max_line)
        append = out.append
        new, setattr_, event = object.__new__, object.__setattr__, AmiEvent
        for text in frames:
            if len(text) <= limit and text.startswith("Event: "):
                # the common case, inlined: an event of sane size; headers are split on first use
                ev = new(event)
                setattr_(ev, "_data", text)
                append(ev)
                continue
            if not text:
                continue
            if text[0] in "\r\n" or text[-1] in "\r\n":
                text = text.strip("\r\n")
                if not text:
                    continue
            if len(text) > limit:
                if len(text.encode("utf-8", "replace")) > max_frame:
                    errors.append(f"AMI frame of {len(text)} characters exceeds {max_frame} bytes")
                    continue
                if max(map(len, text.split(nl))) > max_line:
                    errors.append(f"AMI line longer than {max_line} characters")
                    continue
            msg = parse_frame(text, nl)
            if msg is None:
                errors.append(f"AMI frame without any header: {text[:40]!r}")
            else:
                append(msg)


def pairs_of(headers: Headers) -> Iterable[tuple[str, str]]:
    if isinstance(headers, Mapping):
        for key, value in headers.items():
            if isinstance(value, str):
                yield key, value
            else:
                for v in value:
                    yield key, v
    else:
        yield from headers


def _line(key: str, value: object) -> str:
    text = str(value)
    if "\n" in key or "\r" in key or ":" in key or not key:
        raise ValueError(f"invalid AMI header name {key!r}")
    if "\n" in text or "\r" in text:
        # a newline would end the header (or the whole action): injection; refuse rather than mangle
        raise ValueError(f"AMI header {key!r} contains a line break")
    return f"{key}: {text}\r\n"


def encode_message(headers: Headers) -> bytes:
    """Encode one frame (event, response or action) as CRLF lines plus the blank line."""
    return ("".join(_line(k, v) for k, v in pairs_of(headers)) + "\r\n").encode("utf-8")


def encode_action(name: str, headers: Headers = ()) -> bytes:
    """``Action: name`` first, then ``headers`` (a mapping whose values may be lists for repeated headers such
    as ``Variable``, or a sequence of pairs)."""
    return encode_message([("Action", name), *pairs_of(headers)])


def decode_all(data: bytes) -> list[Message]:
    """Parse a complete capture (e.g. a trace's ``ami.raw``); a trailing partial frame is ignored."""
    return AmiDecoder().feed(data)
