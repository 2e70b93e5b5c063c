"""Parse one decoded AMI frame (the text between two blank lines) into a typed message."""

from __future__ import annotations

from ctiserver.pbx.ami.messages import AmiEvent, AmiResponse, Message, split_headers

_END_COMMAND = "--END COMMAND--"


def parse_frame(text: str, nl: str = "\r\n") -> Message | None:
    """``text`` holds lines separated by ``nl`` (no trailing blank line). ``None`` if it has no header at all.

    Events are returned unsplit (``AmiEvent`` splits its headers on first use); responses are split now.
    """
    if text.startswith("Event: "):
        return AmiEvent._from_text(text)
    first = text.partition(nl)[0].lower()
    if first.startswith("response:") and "follows" in first:
        return _parse_follows(text.split(nl))
    flat = split_headers(text, nl)
    if not flat:
        return None
    low = flat[0].lower()
    if low == "event":
        return AmiEvent._from_flat(flat)
    if low == "response":
        outputs = tuple(flat[i + 1] for i in range(0, len(flat), 2) if flat[i] == "Output")
        return AmiResponse._new_response(flat, outputs)
    # Some frames carry Event/Response later than the first line: classify by content
    for i in range(0, len(flat), 2):
        low = flat[i].lower()
        if low == "response":
            return AmiResponse._new_response(flat, ())
        if low == "event":
            break
    return AmiEvent._from_flat(flat)


def _parse_follows(lines: list[str]) -> Message:
    """``Response: Follows`` (legacy Command): headers, then free text lines, then ``--END COMMAND--``."""
    headers: list[str] = []
    body: list[str] = []
    in_body = False
    for line in lines:
        if not in_body:
            key, sep, value = line.partition(": ")
            if sep and " " not in key:
                headers += (key, value)
                continue
            in_body = True
        if line.endswith(_END_COMMAND):
            rest = line[: -len(_END_COMMAND)]
            if rest:
                body.append(rest)
            break
        body.append(line)
    return AmiResponse._new_response(headers, tuple(body))
