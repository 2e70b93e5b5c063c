"""AMI ingest benchmark: our sans-I/O codec vs panoramisk's parser, in-process, same bytes, same chunk size.

    python bench/ami_ingest.py ../shared/asterisk-traces/13-load-queue/ami.raw [--chunk 4096] [--rounds 5]

Both sides get the capture cut into the same chunks (default 4096 bytes, close to the recorded mean recv size)
and must turn every chunk into messages: ours through ``AmiDecoder.feed``; panoramisk through its real
``AMIProtocol.data_received`` (decode, split, ``Message.from_line``, dispatch to a counting factory). The best
round of each (process CPU time, rounds interleaved) is reported, then the ratio ours/panoramisk.

Equal work (the headline, last line ``ratio:``): panoramisk splits every header of every event and builds a
case-insensitive dict of (key, value) pairs; on our side every event's ``headers`` (all its (key, value)
pairs) is read and a lower-case lookup goes through its case-insensitive index (shared per key sequence, see
ctiserver/pbx/ami/messages.py). A second figure, "dispatch only" (frame, decode, classify, read the event
name; headers not touched), is printed first and clearly labelled: it is NOT equal work.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def run_ours(chunks: list[bytes]) -> int:
    """What the client does before dispatch: frame, decode, classify, read the event name."""
    decoder = AmiDecoder()
    events = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if type(msg) is AmiEvent and msg.name:
                events += 1
    return events


def run_ours_all_headers(chunks: list[bytes]) -> int:
    """As ``run_ours``, then every header of every event split into (key, value) pairs (``headers``) and a
    lower-case lookup through the case-insensitive index — what panoramisk always does up front."""
    decoder = AmiDecoder()
    events = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if type(msg) is AmiEvent and msg.name and msg.headers and msg.get("uniqueid") != "-":
                events += 1
    return events


class _CountingFactory:
    save_stream = None
    forgetable_actions: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.events = 0
        self.awaiting_actions: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.events += 1

    def connection_lost(self, exc: Any) -> None:
        pass


class _NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def run_panoramisk(chunks: list[bytes]) -> int:
    import logging

    from panoramisk.ami_protocol import AMIProtocol

    logging.getLogger("panoramisk").setLevel(logging.WARNING)
    proto = AMIProtocol()
    proto.connection_made(_NullTransport())  # type: ignore[arg-type]
    factory = _CountingFactory()
    proto.factory = factory
    proto.encoding = "utf-8"  # panoramisk decodes every chunk separately with errors="ignore"
    proto.version = "bench"  # skip the banner check
    for chunk in chunks:
        proto.data_received(chunk)
    return factory.events


def timed(fn: Callable[[list[bytes]], int], chunks: list[bytes]) -> tuple[int, float]:
    gc.collect()
    start = time.process_time()
    count = fn(chunks)
    return count, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("file", type=Path)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    data = args.file.read_bytes()
    chunks = chunks_of(data, args.chunk)
    print(f"file: {args.file} ({len(data)} bytes, {len(chunks)} chunks of {args.chunk})")
    ours_t: list[float] = []
    full_t: list[float] = []
    pan_t: list[float] = []
    n_ours = n_full = n_pan = 0
    for _ in range(args.rounds):  # interleaved, so all sides see the same machine load
        n_ours, t = timed(run_ours, chunks)
        ours_t.append(t)
        n_full, t = timed(run_ours_all_headers, chunks)
        full_t.append(t)
        n_pan, t = timed(run_panoramisk, chunks)
        pan_t.append(t)
    if not n_ours == n_full == n_pan:
        print(f"warning: event counts differ: ours {n_ours}/{n_full}, panoramisk {n_pan}", file=sys.stderr)
    ours, full, pan = n_ours / min(ours_t), n_full / min(full_t), n_pan / min(pan_t)
    print(f"ours, dispatch only (event name read, headers not touched): {ours:.0f} events/s")
    print(f"ratio (dispatch only, NOT equal work): {ours / pan:.2f}")
    print(
        f"ours: {full:.0f} events/s (every header split into pairs + case-insensitive index; "
        f"{n_full} events, best of {args.rounds} rounds, CPU time)"
    )
    print(f"panoramisk: {pan:.0f} events/s ({n_pan} events)")
    print(f"ratio: {full / pan:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
