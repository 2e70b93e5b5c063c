"""Feed AMI captures (bytes as received on the wire) through the codec and the tracker."""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ctiserver.calls.export import calls_json
from ctiserver.calls.tracker import Tracker
from ctiserver.clock import Clock
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent

CHUNK = 64 * 1024


def read_capture(path: str | Path) -> bytes:
    p = Path(path)
    data = p.read_bytes()
    return gzip.decompress(data) if p.suffix == ".gz" else data


def track_bytes(chunks: Iterable[bytes], tracker: Tracker | None = None) -> Tracker:
    """Decode ``chunks`` (one AMI connection) and feed every event to ``tracker``."""
    t = tracker or Tracker()
    decoder = AmiDecoder()
    feed = t.feed
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if isinstance(msg, AmiEvent):
                feed(msg)
    t.release_held()  # the connection ended: no CEL HANGUP will come for the legs still waiting for one
    return t


def track_files(paths: Iterable[str | Path], clock: Clock | None = None) -> Tracker:
    """Each file is one AMI connection (e.g. ``ami.raw`` then ``ami-after.raw`` after a restart)."""
    t = Tracker(clock)
    for path in paths:
        data = read_capture(path)
        track_bytes((data[i : i + CHUNK] for i in range(0, len(data), CHUNK)), t)
    return t


def track_messages(messages: Iterable[object], tracker: Tracker | None = None) -> Tracker:
    t = tracker or Tracker()
    feed = t.feed
    for msg in messages:
        if isinstance(msg, AmiEvent):
            feed(msg)
    t.release_held()
    return t


def print_calls(messages: Iterable[object], out: TextIO, args: argparse.Namespace) -> int:
    """``ctiserver replay --ami FILE --calls``: the tracked calls and legs, in the shape of expected.json."""
    tracker = track_messages(messages)
    doc = calls_json(tracker.all_calls())
    doc["linkedid_changes"] = tracker.linkedid_changes
    doc["open_calls"] = len(tracker.calls)
    doc["anomalies"] = dict(sorted(tracker.anomalies.items()))
    out.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0
