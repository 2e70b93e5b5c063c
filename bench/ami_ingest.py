"""AMI ingest benchmark: our sans-I/O codec vs panoramisk's parser, in-process, same bytes, same chunk size.

    python bench/ami_ingest.py ../shared/asterisk-traces/13-load-queue/ami.raw [--chunk 4096] [--rounds 5]

Both sides get the capture cut into the same chunks (default 4096 bytes, close to the recorded mean recv size)
and must turn every chunk into messages: ours through ``AmiDecoder.feed``; panoramisk through its real
``AMIProtocol.data_received`` (decode, split, ``Message.from_line``, dispatch to a counting factory). The best
round of each (process CPU time, rounds interleaved) is reported, then the ratio ours/panoramisk.

The headline (last line ``ratio:``) is what a consumer of each library gets and uses: panoramisk splits
every header of every event into key and value strings in a case-insensitive dict; ours splits every event
into its header lines, proves each line's key against the event's shape (ctiserver/pbx/ami/shape.py) and
cuts a value out when it is asked for. Both sides then dispatch the event: ours reads its name and does one
case-insensitive lookup (``get("uniqueid")``), as the call tracker does for every event.

Also printed: the same with every (key, value) pair of every event materialised (``headers``) - more than the
tracker ever does, listed for completeness - and, when the compiled fast path (ctiserver/pbx/ami/
_fastpath.pyx, built by pip when a C compiler is present) is in use, the pure-Python fallback's figure.
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

from ctiserver.pbx.ami import codec, fastpath
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


def run_ours_lookup(chunks: list[bytes]) -> int:
    """As ``run_ours``, plus one case-insensitive lookup per event (what the call tracker does at least)."""
    decoder = AmiDecoder()
    events = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if type(msg) is AmiEvent and msg.name and msg.get("uniqueid") != "-":
                events += 1
    return events


def run_ours_all_headers(chunks: list[bytes]) -> int:
    """As ``run_ours``, then every (key, value) pair of every event materialised."""
    decoder = AmiDecoder()
    events = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if type(msg) is AmiEvent and msg.name and msg.headers:
                events += 1
    return events


def run_pure_python(chunks: list[bytes]) -> int:
    """``run_ours_lookup`` with the pure-Python fast path (what an install without a C compiler runs)."""
    saved = codec._events
    codec._events = fastpath.events
    try:
        return run_ours_lookup(chunks)
    finally:
        codec._events = saved


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
    sides: dict[str, Callable[[list[bytes]], int]] = {
        "dispatch": run_ours,
        "lookup": run_ours_lookup,
        "pairs": run_ours_all_headers,
        "panoramisk": run_panoramisk,
    }
    if codec.ACCELERATED:
        sides["python"] = run_pure_python
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):  # interleaved, so all sides see the same machine load
        for name, fn in sides.items():
            counts[name], t = timed(fn, chunks)
            best[name] = min(best.get(name, t), t)
    if len(set(counts.values())) != 1:
        print(f"warning: event counts differ: {counts}", file=sys.stderr)
    rate = {name: counts[name] / best[name] for name in sides}
    pan = rate["panoramisk"]
    kind = "compiled fast path (_fastpath.pyx)" if codec.ACCELERATED else "pure Python (no C compiler at install)"
    print(f"decoder: {kind}")
    labels = {
        "dispatch": "ours, dispatch only (event name read)",
        "pairs": "ours, every (key, value) pair materialised",
        "python": "ours, pure-Python fallback (name + lookup)",
    }
    for name, label in labels.items():
        if name in rate:
            print(f"{label}: {rate[name]:.0f} events/s, ratio {rate[name] / pan:.2f}")
    print(
        f"ours: {rate['lookup']:.0f} events/s (event name + one case-insensitive lookup; "
        f"{counts['lookup']} events, best of {args.rounds} rounds, CPU time)"
    )
    print(f"panoramisk: {pan:.0f} events/s ({counts['panoramisk']} events)")
    print(f"ratio: {rate['lookup'] / pan:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
