"""AMI ingest benchmark: our sans-I/O codec vs panoramisk's parser, in-process, same bytes, same chunk size.

    python bench/ami_ingest.py ../shared/asterisk-traces/13-load-queue/ami.raw [--chunk 4096] [--rounds 5]

Both sides get the capture cut into the same chunks (default 4096 bytes, close to the recorded mean recv size)
and must turn every chunk into messages: ours through ``AmiDecoder.feed``; panoramisk through its real
``AMIProtocol.data_received`` (decode, split, ``Message.from_line``, dispatch to a counting factory). The best
round of each is reported (least disturbed by other load), then the ratio ours/panoramisk.
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
    decoder = AmiDecoder()
    events = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if type(msg) is AmiEvent:
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


def measure(fn: Callable[[list[bytes]], int], chunks: list[bytes], rounds: int) -> tuple[int, float]:
    best = float("inf")
    count = 0
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        count = fn(chunks)
        best = min(best, time.perf_counter() - start)
    return count, count / best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("file", type=Path)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    data = args.file.read_bytes()
    chunks = chunks_of(data, args.chunk)
    print(f"file: {args.file} ({len(data)} bytes, {len(chunks)} chunks of {args.chunk})")
    n_ours, ours = measure(run_ours, chunks, args.rounds)
    n_pan, pan = measure(run_panoramisk, chunks, args.rounds)
    print(f"ours: {ours:.0f} events/s ({n_ours} events)")
    print(f"panoramisk: {pan:.0f} events/s ({n_pan} events)")
    print(f"ratio: {ours / pan:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
