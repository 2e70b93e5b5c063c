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

from ctiserver.pbx.ami.messages import AmiBanner, AmiEvent, AmiProtocolError, AmiResponse, Message

MAX_FRAME = 1 << 20  # 1 MiB: CoreShowChannels of a big box is a list of events, not one frame
MAX_LINE = 64 << 10
_END_COMMAND = "--END COMMAND--"

Headers = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


class AmiDecoder:
    """Incremental AMI parser. ``feed(data)`` returns every message completed by ``data``, in wire order.

    On bad input ``feed`` raises ``AmiProtocolError`` whose ``messages`` holds every good message of the same
    call (nothing valid is lost); the decoder stays usable and resynchronises at the next frame boundary.
    """

    __slots__ = ("_buf", "_skipping", "_want_banner", "bad_utf8_frames", "max_frame", "max_line")

    def __init__(
        self, *, expect_banner: bool = False, max_frame: int = MAX_FRAME, max_line: int = MAX_LINE
    ) -> None:
        self._buf = b""
        self._want_banner = expect_banner
        self._skipping = False
        self.max_frame = max_frame
        self.max_line = max_line
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
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > self.max_line:
                    self._want_banner = False
                    errors.append(f"no AMI banner line within {self.max_line} bytes")
                else:
                    self._buf = buf
                    return out
            else:
                self._want_banner = False
                out.append(AmiBanner(buf[:nl].rstrip(b"\r").decode("utf-8", "replace")))
                buf = buf[nl + 1 :]
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        if self._skipping:
            # the rest of an oversized frame already reported: drop it up to the next boundary
            end = buf.find(b"\n\n")
            if end < 0:
                self._buf = buf[-2:]
                return out
            self._skipping = False
            buf = buf[end + 2 :]
        frames = buf.split(b"\n\n")
        self._buf = frames.pop()
        append = out.append
        max_frame, max_line = self.max_frame, self.max_line
        for frame in frames:
            if not frame:
                continue
            if len(frame) > max_frame:
                errors.append(f"AMI frame of {len(frame)} bytes exceeds {max_frame}")
                continue
            try:
                text = frame.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_utf8_frames += 1
                text = frame.decode("utf-8", "replace")
            if len(text) > max_line and max(map(len, text.split("\n"))) > max_line:
                errors.append(f"AMI line longer than {max_line} characters")
                continue
            append(_parse(text))
        if len(self._buf) > max_frame:
            errors.append(f"AMI frame exceeds {max_frame} bytes without a terminator")
            self._buf = b""
            self._skipping = True
        if errors:
            raise AmiProtocolError("; ".join(errors), messages=out)
        return out


def _parse(text: str) -> Message:
    if text[0] == "\n":
        text = text.lstrip("\n")
    # Fast path, all in C: when every line holds exactly one ": ", splitting the text on both separators
    # yields key, value, key, value... (checked by the count); otherwise fall back to line-by-line.
    flat = text.replace("\n", ": ").split(": ")
    if len(flat) == 2 * text.count("\n") + 2:
        it = iter(flat)
        headers = tuple(zip(it, it, strict=True))
    else:
        if text[:9].lower() == "response:" and "follows" in text[: text.find("\n") % (len(text) + 1)].lower():
            return _parse_follows(text.split("\n"))
        headers = _slow_headers(text)
    if text[:6] == "Event:" or text[:6].lower() == "event:":
        return AmiEvent._new(headers)
    if text[:9].lower() == "response:":
        if headers and headers[0][1].lower() == "follows":
            return _parse_follows(text.split("\n"))
        outputs = tuple(v for k, v in headers if k == "Output")
        return AmiResponse._new_response(headers, outputs)
    # Some frames carry Event/Response later than the first line: classify by content
    for key, _ in headers:
        low = key.lower()
        if low == "response":
            return AmiResponse._new(headers)
        if low == "event":
            break
    return AmiEvent._new(headers)


def _slow_headers(text: str) -> tuple[tuple[str, str], ...]:
    headers = []
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep:
                continue  # stray text: not a header
        headers.append((key, value))
    return tuple(headers)


def _parse_follows(lines: list[str]) -> Message:
    """``Response: Follows`` (legacy Command): headers, then free text lines, then ``--END COMMAND--``."""
    headers: list[tuple[str, str]] = []
    body: list[str] = []
    in_body = False
    for line in lines:
        if not in_body:
            key, sep, value = line.partition(": ")
            if sep and " " not in key:
                headers.append((key, value))
                continue
            in_body = True
        if line.endswith(_END_COMMAND):
            rest = line[: -len(_END_COMMAND)]
            if rest:
                body.append(rest)
            break
        body.append(line)
    return AmiResponse._new_response(tuple(headers), tuple(body))


def _pairs(headers: Headers) -> Iterable[tuple[str, str]]:
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
    return ("".join(_line(k, v) for k, v in _pairs(headers)) + "\r\n").encode("utf-8")


def encode_action(name: str, headers: Headers = ()) -> bytes:
    """``Action: name`` first, then ``headers`` (a mapping whose values may be lists for repeated headers such
    as ``Variable``, or a sequence of pairs)."""
    return encode_message([("Action", name), *_pairs(headers)])


def decode_all(data: bytes) -> list[Message]:
    """Parse a complete capture (e.g. a trace's ``ami.raw``); a trailing partial frame is ignored."""
    return AmiDecoder().feed(data)
