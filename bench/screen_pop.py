"""Screen-pop latency under load: the daemon (every component) in this process, the simulated PBX in its own
process (as Asterisk would be), N logged-in agents each with its own WebSocket client in a third process
(so that 2,000 clients do not steal the daemon's event loop), new calls at R calls/s for D seconds (DID 100 →
IVR → queue → ACD → agent phone).

Measured per offer: when the daemon's ARI client receives the event saying the agent's device rings (Dial
RINGING / ChannelStateChange Ringing, on the ARI client's raw-event hook) → when that agent's WebSocket client
receives the ringing ``screen.pop`` frame. Both ends read ``time.monotonic()`` (CLOCK_MONOTONIC, one clock for
every process on the machine). Also shown: pops that only went out after the ACD's ``agent.ringing``.

    .venv/bin/python bench/screen_pop.py                  # the issue's run: 100 calls/s, 2000 agents, 60 s
    .venv/bin/python bench/screen_pop.py --rate 10 --agents 200 --duration 20 [--count-sql]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver import runtime
from ctiserver.api.auth import Role, new_token
from ctiserver.api.component import ApiServer
from ctiserver.app import COMPONENTS, running
from ctiserver.config import Config
from ctiserver.crm.ring_hook import RingHook
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.logs import setup_logging
from ctiserver.loop import run_loop
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ari.client import AriClient

SCRIPT = 'script: bench\ndids: ["100"]\nnodes:\n  q: {type: queue, queue: support}\n'


def _sim_process(conn: Any, agents: list[str], opts: dict[str, float], recordings: str) -> None:
    """The simulated PBX in its own process (as Asterisk would be): the agents' phones, then the traffic. It
    writes the recordings where the daemon reads them (a real deployment shares that directory too)."""
    from ctiserver.sim.config import SimConfig
    from ctiserver.sim.simulator import Simulator

    async def main() -> None:
        setup_logging("WARNING")
        async with Simulator(SimConfig(recordings_dir=recordings), seed=1) as sim:
            for a in agents:
                sim.agent(a, answer_after=opts["answer_after"], hangup_after=opts["talk"])
            conn.send((sim.ami_port, sim.ari_url))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)  # "go"
            t0 = time.perf_counter()
            placed = 0
            handles = []
            while (elapsed := time.perf_counter() - t0) < opts["duration"]:
                while placed < int(elapsed * opts["rate"]) + 1:
                    call = sim.place_call(from_number=f"+4822{placed:07d}", to="100", hangup_after=opts["talk"] + 10)
                    handles.append((time.monotonic(), call))
                    placed += 1
                await asyncio.sleep(0.005)
            conn.send(placed)
            await loop.run_in_executor(None, conn.recv)  # "stop"
            conn.send([(h.channel_id, t) for t, h in handles if h.channel is not None])

    asyncio.run(main())


def _clients_process(conn: Any, ws_url: str, tokens: list[str]) -> None:
    """The agents' WebSocket clients in their own process (they must not steal the daemon's event loop):
    connect every agent, report ready, stamp each ringing ``screen.pop`` frame with ``time.monotonic()``
    (CLOCK_MONOTONIC: the same clock as the daemon's ring stamps, across processes), send the stamps back
    on "stop"."""

    async def main() -> None:
        setup_logging("WARNING")
        received: list[tuple[str, float]] = []
        frames: Counter[str] = Counter()  # every frame the clients got, by event type
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            sockets = []
            for token in tokens:
                sockets.append(await http.ws_connect(ws_url, headers={"Authorization": f"Bearer {token}"}))

            async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
                async for msg in ws:
                    kind = msg.data.partition('"type":"')[2].partition('"')[0]
                    frames[kind] += 1
                    if '"screen.pop"' not in msg.data:  # cheap test first: most frames are not pops
                        continue
                    frame = json.loads(msg.data)
                    if frame.get("op") != "event" or frame["event"]["type"] != "screen.pop":
                        continue
                    data = frame["event"]["data"]
                    if data.get("phase") == "ringing":
                        received.append((str(data.get("channel")), time.monotonic()))

            readers = [asyncio.create_task(reader(ws)) for ws in sockets]
            conn.send("ready")
            await loop.run_in_executor(None, conn.recv)  # "stop"
            for ws in sockets:
                await ws.close()
            await asyncio.gather(*readers, return_exceptions=True)
        conn.send((received, frames))

    asyncio.run(main())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def _config(args: argparse.Namespace, tmp: Path, agent_ids: list[str], ami_port: int, ari_url: str) -> Config:
    return Config.model_validate({
        "pbx": {"ami": {"host": "127.0.0.1", "port": ami_port}, "ari": {"url": ari_url}},
        "api": {"host": "127.0.0.1", "port": 0},
        "database": {"url": f"sqlite+aiosqlite:///{tmp}/db.sqlite", "spool_dir": str(tmp / "spool")},
        "data_dir": str(tmp),
        "log_level": "WARNING",
        "ivr": {"scripts_dir": str(tmp / "ivr")},  # not tmp: hot reload would walk the recordings every 2 s
        "recording": {"directory": str(tmp / "recordings")},
        "acd": {
            "agents": [{"id": a, "device": f"PJSIP/{a}", "login": True} for a in agent_ids],
            "queues": [{"name": "support", "ring_timeout": 30, "wrapup": 1}],
        },
    })


def _print_throughput(
    rang: Mapping[str, float], caller_of: Mapping[str, str], placed_at: Mapping[str, float], duration: float
) -> None:
    """Whether the daemon keeps up: call placed → the agent's phone rings, for all calls and for the first and
    the last 10 s of calls placed. A daemon that keeps up shows the same figures in both; one that falls behind
    shows a growing backlog (the last calls wait longer)."""
    waits = sorted((placed_at[caller_of[ch]], t - placed_at[caller_of[ch]]) for ch, t in rang.items()
                   if caller_of.get(ch) in placed_at)
    if not waits:
        return
    start = waits[0][0]
    rows = [("all", [w for _, w in waits]),
            ("first 10 s", [w for t, w in waits if t - start < 10]),
            ("last 10 s", [w for t, w in waits if t - start >= duration - 10])]
    print("call placed → agent phone rings (IVR, queue, routing, originate): " + "; ".join(
        f"{name} ({len(ws)}): p50 {pct(ws, 0.5) * 1000:.0f} ms, p99 {pct(ws, 0.99) * 1000:.0f} ms, "
        f"max {max(ws) * 1000:.0f} ms" for name, ws in rows if ws))


def ringing_channel_id(event: Mapping[str, Any]) -> str:
    kind = event.get("type")
    if kind == "Dial" and event.get("dialstatus") == "RINGING":
        return str((event.get("peer") or {}).get("id", ""))
    if kind == "ChannelStateChange" and (event.get("channel") or {}).get("state") == "Ringing":
        return str((event.get("channel") or {}).get("id", ""))
    return ""


async def run(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="cti-pop-bench-"))
    (tmp / "ivr").mkdir()
    (tmp / "ivr" / "bench.yaml").write_text(SCRIPT)
    agent_ids = [str(10000 + i) for i in range(args.agents)]
    mp_ctx = mp.get_context("spawn")
    parent, child = mp_ctx.Pipe()
    opts = {"answer_after": args.answer_after, "talk": args.talk, "rate": args.rate}
    opts["duration"] = args.duration
    proc = mp_ctx.Process(target=_sim_process, args=(child, agent_ids, opts, str(tmp / "recordings")), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    ami_port, ari_url = await loop.run_in_executor(None, parent.recv)
    config = _config(args, tmp, agent_ids, ami_port, ari_url)
    rang: dict[str, float] = {}
    published: dict[str, float] = {}
    caller_of: dict[str, str] = {}  # the agent's ringing channel → the call (the caller's channel id)
    types: Counter[str] = Counter()
    statements: Counter[str] = Counter()
    components = tuple(c for c in COMPONENTS if c != "ctiserver.sim.component")
    async with running(config, components=components) as ctx:

        def on_raw(event: Mapping[str, Any]) -> None:
            cid = ringing_channel_id(event)
            if cid and cid not in rang:
                rang[cid] = time.monotonic()

        def on_bus(event: DomainEvent) -> None:
            types[event.type] += 1
            if event.type in ("queue.left", "queue.requeued"):  # how calls left the queue (answered, ...)
                types[f"{event.type}:{event.data.get('outcome') or event.data.get('why')}"] += 1
            if event.type == "agent.ringing" and event.data.get("channel"):
                published.setdefault(str(event.data["channel"]), time.monotonic())
                caller_of[str(event.data["channel"])] = event.subject

        # first: the stamp must be taken before the screen-pop's own hook handles (and sends) the same event
        ctx.require(AriClient).on_raw(on_raw, first=True)
        ari_types: Counter[str] = Counter()
        ami_types: Counter[str] = Counter()
        ctx.require(AriClient).on_raw(lambda e: ari_types.update((str(e.get("type")),)))
        ctx.require(AmiClient).on_event("*", lambda e: ami_types.update((e.name,)))
        ctx.require(InMemoryBus).listeners.append(on_bus)
        if args.count_sql:
            from sqlalchemy import event as sa_event

            from ctiserver.store.database import Database

            def on_sql(_conn: Any, _cur: Any, stmt: str, *_rest: Any) -> None:
                statements[" ".join(stmt.split()[:4])[:60]] += 1

            sa_event.listen(ctx.require(Database).engine.sync_engine, "before_cursor_execute", on_sql)
            sa_event.listen(ctx.require(Database).engine.sync_engine, "commit",
                            lambda _conn: statements.update(("COMMIT",)))
        api = ctx.require(ApiServer)
        written: list[int] = [0]  # ringing pop frames the daemon wrote to an agent's WebSocket
        api.hub.on_pop.append(lambda e: written.__setitem__(0, written[0] + (e.data.get("phase") == "ringing")))
        tokens = []
        for a in agent_ids:
            token, record = new_token(Role.AGENT, a, "bench", time.time())
            await api.auth.store.add(record)
            tokens.append(token)
        c_parent, c_child = mp_ctx.Pipe()
        clients = mp_ctx.Process(
            target=_clients_process, args=(c_child, api.url.replace("http", "ws") + "/api/ws", tokens), daemon=True
        )
        clients.start()
        await loop.run_in_executor(None, c_parent.recv)  # "ready"
        print(f"{args.agents} agents connected; {args.rate} calls/s for {args.duration} s", flush=True)

        runtime.settle()  # as `ctiserver run` does once started
        gc_pauses: list[float] = []
        gc_started = [0.0]

        def on_gc(phase: str, _info: Mapping[str, Any]) -> None:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                gc_pauses.append(time.perf_counter() - gc_started[0])

        gc.callbacks.append(on_gc)
        cpu0, wall0 = time.process_time(), time.monotonic()
        parent.send("go")
        placed = await loop.run_in_executor(None, parent.recv)
        await asyncio.sleep(args.drain)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        rang_listened = dict(rang)  # the rings while the clients still listen (the daemon may still be catching up)
        written_listened = written[0]
        c_parent.send("stop")
        received, frames = await loop.run_in_executor(None, c_parent.recv)
        clients.join(10)
        fast = ctx.require(RingHook).fast_pops
        gc.callbacks.remove(on_gc)
    parent.send("stop")
    placed_at: dict[str, float] = dict(await loop.run_in_executor(None, parent.recv))
    proc.join(10)
    rang_late = len(rang) - len(rang_listened)
    missing = sum(1 for ch, _ in received if ch not in rang)
    received = [(ch, t) for ch, t in received if ch in rang_listened]  # not the rings after the snapshot
    rang = rang_listened
    latencies = [t - rang[ch] for ch, t in received]
    segments = [t - published[ch] for ch, t in received if ch in published and t > published[ch]]
    print(f"calls placed: {placed}; agent phones rang while the clients listened: {len(rang)} (and {rang_late} "
          f"after); pops measured: {len(latencies)}; "
          f"pops without a ring timestamp: {missing}; daemon process CPU: {cpu:.0%} of one core")
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(f"ring → pop at the agent's WebSocket (pops received): p50 {pct(ms, 0.5):.2f} ms, "
              f"p90 {pct(ms, 0.9):.2f} ms, p99 {pct(ms, 0.99):.2f} ms, max {max(ms):.2f} ms, "
              f"mean {statistics.fmean(ms):.2f} ms")
        # a phone that rang but whose pop had not arrived when the run ended counts as later than any other
        late = [*ms, *[float("inf")] * max(0, len(rang) - len(latencies))]
        print(f"  every phone that rang ({len(rang)}), a pop not received by the end counted as late: "
              f"p50 {pct(late, 0.5):.2f} ms, p99 {pct(late, 0.99):.2f} ms "
              f"({len(rang) - len(latencies)} not received)")
    print(f"pops sent on the PBX's ringing event (fast path): {fast}; after the ACD's agent.ringing: "
          f"{len(segments)}; ringing pop frames written while the clients listened: {written_listened}, received: "
          f"{len(received)}")
    if segments:
        ms = [x * 1000 for x in segments]
        print(f"  those: agent.ringing on the bus → pop at the WebSocket: p50 {pct(ms, 0.5):.2f} ms, "
              f"p99 {pct(ms, 0.99):.2f} ms")
    _print_throughput(rang, caller_of, placed_at, args.duration)
    if gc_pauses:
        print(f"garbage collections: {len(gc_pauses)}, {sum(gc_pauses) * 1000:.0f} ms in all, "
              f"longest {max(gc_pauses) * 1000:.1f} ms")
    print("events:", ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
    for name, kinds in (("AMI", ami_types), ("ARI", ari_types)):
        print(f"{name} events received ({sum(kinds.values())}, {sum(kinds.values()) / max(1, placed):.1f} per call "
              "placed):", ", ".join(f"{k} {v}" for k, v in kinds.most_common(12)))
    print(f"frames the agents' clients received ({sum(frames.values())}):",
          ", ".join(f"{k or '?'} {v}" for k, v in frames.most_common()))
    for stmt, n in statements.most_common(25):
        print(f"  sql {n:7d}  {stmt}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=100.0, help="new calls per second")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--answer-after", type=float, default=1.0)
    parser.add_argument("--talk", type=float, default=5.0, help="agent talk time before hanging up")
    parser.add_argument("--count-sql", action="store_true", help="count SQL statements by kind")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait after the last call")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="the daemon's event loop (auto: uvloop when installed, as `ctiserver run`)")
    args = parser.parse_args()
    return run_loop(run(args), args.loop)


if __name__ == "__main__":
    raise SystemExit(main())
