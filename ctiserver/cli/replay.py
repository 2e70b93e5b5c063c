"""``ctiserver replay --ami FILE``: feed a raw AMI capture (a trace's ``ami.raw``) through the codec.

Default output: one JSON object per line, ``{"event": NAME, "headers": {...}}`` (a repeated header becomes a
list; responses print as ``{"response": ..., "headers": {...}}``). ``--count``: one ``Name: N`` line per event
name (most frequent first), then ``responses: N`` and a last line ``total: N`` (events only).

Extending (hook for other areas): a *mode* is a function ``(messages, out, args) -> int`` registered in
``MODES`` with the flag that selects it in ``FLAGS``. The call tracker adds ``--calls`` and ``--kpi`` by
putting ``"calls": ctiserver.calls.replay.print_calls`` (and its flag/help) in these two tables; the messages
it receives are the decoded ``AmiEvent``/``AmiResponse`` stream, in wire order, read lazily from the file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ctiserver.calls.replay import print_calls
from ctiserver.kpi.replay import print_kpi
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent, AmiMessage, AmiProtocolError, AmiResponse, Message

READ_SIZE = 1 << 16

Mode = Callable[[Iterable[Message], TextIO, argparse.Namespace], int]


def read_capture(path: Path, *, errors: TextIO | None = None) -> Iterator[Message]:
    """Decode ``path`` (raw bytes as received on an AMI socket; ``.gz`` allowed) lazily, message by message.
    Protocol errors are reported on ``errors`` (stderr by default) and decoding goes on."""
    errors = errors or sys.stderr
    decoder = AmiDecoder(expect_banner=_starts_with_banner(path))
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(READ_SIZE):
            try:
                messages = decoder.feed(chunk)
            except AmiProtocolError as exc:
                print(f"replay: {path}: {exc}", file=errors)
                messages = exc.messages
            yield from messages
    if decoder.buffered:
        print(f"replay: {path}: {decoder.buffered} bytes of an unterminated frame at the end", file=errors)


def _starts_with_banner(path: Path) -> bool:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return bool(fh.read(22).startswith(b"Asterisk Call Manager/"))


def headers_json(msg: AmiMessage) -> dict[str, str | list[str]]:
    """Headers as a JSON object; a repeated header becomes a list of its values in wire order."""
    out: dict[str, str | list[str]] = {}
    for key, value in msg.headers:
        have = out.get(key)
        if have is None:
            out[key] = value
        elif isinstance(have, list):
            have.append(value)
        else:
            out[key] = [have, value]
    return out


def print_json(messages: Iterable[Message], out: TextIO, args: argparse.Namespace) -> int:
    for msg in messages:
        if isinstance(msg, AmiEvent):
            obj: dict[str, Any] = {"event": msg.name, "headers": headers_json(msg)}
        elif isinstance(msg, AmiResponse):
            obj = {"response": msg.response, "headers": headers_json(msg)}
            if msg.output:
                obj["output"] = list(msg.output)
        else:
            obj = {"banner": msg.text}
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return 0


def print_counts(messages: Iterable[Message], out: TextIO, args: argparse.Namespace) -> int:
    names: Counter[str] = Counter()
    responses = 0
    for msg in messages:
        if isinstance(msg, AmiEvent):
            names[msg.name] += 1
        elif isinstance(msg, AmiResponse):
            responses += 1
    for name, n in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])):
        out.write(f"{name}: {n}\n")
    out.write(f"responses: {responses}\n")
    out.write(f"total: {sum(names.values())}\n")
    return 0


# mode name -> function; FLAGS: mode name -> help text of its --flag. Other areas add theirs here.
MODES: dict[str, Mode] = {"json": print_json, "count": print_counts, "calls": print_calls, "kpi": print_kpi}
FLAGS: dict[str, str] = {
    "count": "print one 'Name: N' line per event name, then responses and total",
    "calls": "print the tracked calls and legs as JSON (the shape of the traces' expected.json)",
    "kpi": "print the queue KPIs of the capture (offered, answered, abandoned, SL@20s, ASA, AHT)",
}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("replay", help="feed a raw AMI capture through the codec")
    p.add_argument("--ami", required=True, type=Path, metavar="FILE", help="raw AMI bytes (ami.raw, .gz ok)")
    group = p.add_mutually_exclusive_group()
    for mode, help_text in FLAGS.items():
        group.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=help_text)
    p.set_defaults(func=run, mode="json")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    path: Path = args.ami
    if not path.is_file():
        print(f"replay: {path}: no such file", file=sys.stderr)
        return 2
    return MODES[args.mode](read_capture(path), out or sys.stdout, args)
