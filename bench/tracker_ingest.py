"""Bench: the full AMI path on the load capture — bytes → AmiDecoder → Tracker → legs/calls in memory.

    .venv/bin/python bench/tracker_ingest.py [../shared/asterisk-traces/13-load-queue/ami.raw] [--repeat 5]

Prints events/s and MB/s (best and median of the repeats) and checks the result (240 calls, no open call).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.calls.replay import read_capture, track_bytes

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "asterisk-traces" / "13-load-queue" / "ami.raw"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=64 * 1024, help="bytes per read, as from a socket")
    args = ap.parse_args()
    data = read_capture(args.capture)
    chunks = [data[i : i + args.chunk] for i in range(0, len(data), args.chunk)]
    times = []
    tracker = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        tracker = track_bytes(chunks)
        times.append(time.perf_counter() - t0)
    assert tracker is not None
    events = tracker.events_seen
    calls = len(tracker.finished)
    legs = sum(len(c.legs) for c in tracker.finished.values())
    best, median = min(times), statistics.median(times)
    print(f"capture      {args.capture} ({len(data) / 1e6:.1f} MB, {events} events)")
    print(
        f"result       {calls} calls, {legs} legs, {len(tracker.calls)} open, anomalies {tracker.anomalies}"
    )
    print(
        f"best         {best * 1000:.0f} ms  {events / best:,.0f} events/s  {len(data) / best / 1e6:.1f} MB/s"
    )
    print(
        f"median       {median * 1000:.0f} ms  {events / median:,.0f} events/s  "
        f"{len(data) / median / 1e6:.1f} MB/s"
    )
    return 0 if not tracker.calls else 1


if __name__ == "__main__":
    raise SystemExit(main())
