"""End-to-end AMI ingest: a raw capture replayed at full speed over loopback TCP into ``AmiClient``.

    python bench/ami_client_ingest.py ../shared/asterisk-traces/13-load-queue/ami.raw [--rounds 3]

A tiny server plays Asterisk: banner, MD5 challenge, login, then every byte of the capture as fast as the
socket takes it. The client logs in as in production and dispatches every event to one ``'*'`` subscriber
that reads two headers (what the call tracker does at least). Prints events/s from the login to the last
event (wall clock, and per CPU second of this process, which also runs the server), best of the rounds, and
the peak dispatch backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.config import AmiConfig
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.codec import AmiDecoder, encode_message
from ctiserver.pbx.ami.messages import AmiEvent


async def _serve(capture: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"Asterisk Call Manager/11.0.0\r\n")
    decoder = AmiDecoder()
    while data := await reader.read(65536):
        for msg in decoder.feed(data):
            if not isinstance(msg, AmiEvent):
                continue
            action, aid = msg.get("Action"), msg.get("ActionID") or ""
            if action == "Challenge":
                challenge = [("Response", "Success"), ("ActionID", aid), ("Challenge", "1234")]
                writer.write(encode_message(challenge))
            elif action == "Login":
                writer.write(encode_message([("Response", "Success"), ("ActionID", aid)]))
                writer.write(capture)
                await writer.drain()
            elif action == "Logoff":
                writer.write(encode_message([("Response", "Goodbye"), ("ActionID", aid)]))
                await writer.drain()
                writer.close()
                return


async def one_round(capture: bytes, expected: int) -> tuple[float, float, int]:
    server = await asyncio.start_server(lambda r, w: _serve(capture, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    done = asyncio.Event()
    seen = 0
    peak = 0
    client = AmiClient(AmiConfig(port=port, keepalive_interval=0, action_timeout=60))

    def on_event(ev: AmiEvent) -> None:
        nonlocal seen, peak
        ev.get("Uniqueid")
        ev.get("Timestamp")
        seen += 1
        peak = max(peak, client.backlog)
        if seen >= expected:
            done.set()

    client.on_event("*", on_event)
    start, cpu = time.perf_counter(), time.process_time()
    async with client:
        await asyncio.wait_for(done.wait(), 600)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    server.close()
    await server.wait_closed()
    return seen / elapsed, seen / cpu, peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("file", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    capture = args.file.read_bytes()
    # events the client dispatches: every event of the capture (its responses match no action of ours)
    expected = sum(1 for m in AmiDecoder().feed(capture) if isinstance(m, AmiEvent))
    logging.disable(logging.WARNING)  # the backlog warning is expected here: the sender is a file
    best, best_cpu, peak = 0.0, 0.0, 0
    for _ in range(args.rounds):
        rate, cpu_rate, round_peak = asyncio.run(one_round(capture, expected))
        best, best_cpu, peak = max(best, rate), max(best_cpu, cpu_rate), max(peak, round_peak)
    print(f"events: {expected}")
    print(f"peak backlog: {peak}")
    print(f"wall: {best:.0f} events/s")
    print(f"client: {best_cpu:.0f} events/s per CPU second (server and client in this one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
