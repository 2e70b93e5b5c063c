"""Screen-pop latency under load: the daemon (every component) against the simulated PBX running in its own
process, N logged-in agents each with its own WebSocket client, new calls at R calls/s for D seconds (DID
100 → IVR → queue → ACD → agent phone).

Measured per offer: when the daemon receives the ARI event saying the agent's device rings (Dial RINGING
/ ChannelStateChange Ringing, on the ARI client's raw-event hook) → when that agent's WebSocket client
receives the ``screen.pop`` frame (both on this process's ``perf_counter``). Also shown: the part from
``agent.ringing`` on the bus (after the ACD persisted the agent's state) to the frame.

.venv/bin/python bench/screen_pop.py # 100 calls/s, 2000 agents, 60 s .venv/bin/python
bench/screen_pop.py --rate 10 --agents 200 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
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

from ctiserver.api.auth import Role, new_token
from ctiserver.api.component import ApiServer
from ctiserver.app import COMPONENTS, running
from ctiserver.config import Config
from ctiserver.crm.ring_hook import RingHook
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.logs import setup_logging
from ctiserver.pbx.ari.client import AriClient

SCRIPT = 'script: bench\ndids: ["100"]\nnodes:\n  q: {type: queue, queue: support}\n'


def _sim_process(conn: Any, agents: list[str], opts: dict[str, float]) -> None:
    """The simulated PBX in its own process (as Asterisk would be): the agents' phones, then the traffic."""
    from ctiserver.sim.simulator import Simulator

    async def main() -> None:
        setup_logging("WARNING")
        async with Simulator(seed=1) as sim:
            for a in agents:
                sim.agent(a, answer_after=opts["answer_after"], hangup_after=opts["talk"])
            conn.send((sim.ami_port, sim.ari_url))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)  # "go"
            t0 = time.perf_counter()
            placed = 0
            while (elapsed := time.perf_counter() - t0) < opts["duration"]:
                while placed < int(elapsed * opts["rate"]) + 1:
                    sim.place_call(from_number=f"+4822{placed:07d}", to="100", hangup_after=opts["talk"] + 10)
                    placed += 1
                await asyncio.sleep(0.005)
            conn.send(placed)
            await loop.run_in_executor(None, conn.recv)  # "stop"

    asyncio.run(main())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="cti-pop-bench-"))
    (tmp / "bench.yaml").write_text(SCRIPT)
    agent_ids = [str(10000 + i) for i in range(args.agents)]
    mp_ctx = mp.get_context("spawn")
    parent, child = mp_ctx.Pipe()
    opts = {"answer_after": args.answer_after, "talk": args.talk, "rate": args.rate}
    opts["duration"] = args.duration
    proc = mp_ctx.Process(target=_sim_process, args=(child, agent_ids, opts), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    ami_port, ari_url = await loop.run_in_executor(None, parent.recv)
    config = Config.model_validate({
        "pbx": {"ami": {"host": "127.0.0.1", "port": ami_port}, "ari": {"url": ari_url}},
        "api": {"host": "127.0.0.1", "port": 0},
        "database": {"url": f"sqlite+aiosqlite:///{tmp}/db.sqlite", "spool_dir": str(tmp / "spool")},
        "data_dir": str(tmp),
        "log_level": "WARNING",
        "ivr": {"scripts_dir": str(tmp)},
        "acd": {
            "agents": [{"id": a, "device": f"PJSIP/{a}", "login": True} for a in agent_ids],
            "queues": [{"name": "support", "ring_timeout": 30, "wrapup": 1}],
        },
    })
    rang: dict[str, float] = {}
    published: dict[str, float] = {}
    latencies: list[float] = []
    segments: list[float] = []
    missing = 0
    placed = 0
    fast = 0
    components = tuple(c for c in COMPONENTS if c != "ctiserver.sim.component")
    async with running(config, components=components) as ctx:

        def on_raw(event: Mapping[str, Any]) -> None:
            kind = event.get("type")
            cid = ""
            if kind == "Dial" and event.get("dialstatus") == "RINGING":
                cid = str((event.get("peer") or {}).get("id", ""))
            elif kind == "ChannelStateChange" and (event.get("channel") or {}).get("state") == "Ringing":
                cid = str((event.get("channel") or {}).get("id", ""))
            if cid and cid not in rang:
                rang[cid] = time.perf_counter()

        types: Counter[str] = Counter()

        def on_bus(event: DomainEvent) -> None:
            types[event.type] += 1
            if event.type == "agent.ringing" and event.data.get("channel"):
                published.setdefault(str(event.data["channel"]), time.perf_counter())

        ctx.require(AriClient).on_raw(on_raw)
        statements: Counter[str] = Counter()
        if args.count_sql:
            from sqlalchemy import event as sa_event

            from ctiserver.store.database import Database

            def on_sql(_conn: Any, _cur: Any, stmt: str, *_rest: Any) -> None:
                words = stmt.split()
                statements[" ".join(words[:4])[:60]] += 1

            sa_event.listen(ctx.require(Database).engine.sync_engine, "before_cursor_execute", on_sql)
        ctx.require(InMemoryBus).listeners.append(on_bus)
        api = ctx.require(ApiServer)
        ws_url = api.url.replace("http", "ws") + "/api/ws"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            sockets = []
            for a in agent_ids:
                token, record = new_token(Role.AGENT, a, "bench", time.time())
                await api.auth.store.add(record)
                sockets.append(await http.ws_connect(ws_url, headers={"Authorization": f"Bearer {token}"}))

            async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
                nonlocal missing
                async for msg in ws:
                    frame = json.loads(msg.data)
                    if frame.get("op") != "event" or frame["event"]["type"] != "screen.pop":
                        continue
                    data = frame["event"]["data"]
                    if data.get("phase") != "ringing":
                        continue
                    now = time.perf_counter()
                    channel = str(data.get("channel"))
                    if channel in rang:
                        latencies.append(now - rang[channel])
                    else:
                        missing += 1
                    if channel in published:  # the pop came after the ACD's event: not the fast path
                        segments.append(now - published[channel])

            readers = [asyncio.create_task(reader(ws)) for ws in sockets]
            print(f"{args.agents} agents connected; {args.rate} calls/s for {args.duration} s", flush=True)
            parent.send("go")
            placed = await loop.run_in_executor(None, parent.recv)
            await asyncio.sleep(args.drain)
            for ws in sockets:
                await ws.close()
            await asyncio.gather(*readers, return_exceptions=True)
        fast = ctx.require(RingHook).fast_pops
        print("events:", ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
        for stmt, n in statements.most_common(25):
            print(f"  sql {n:7d}  {stmt}")
    parent.send("stop")
    proc.join(10)
    print(f"calls placed: {placed}; agent phones rang: {len(rang)}; pops measured: {len(latencies)}; "
          f"pops without a ring timestamp: {missing}")
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(f"ring → pop at the agent's WebSocket: p50 {pct(ms, 0.5):.2f} ms, p90 {pct(ms, 0.9):.2f} ms, "
              f"p99 {pct(ms, 0.99):.2f} ms, max {max(ms):.2f} ms, mean {statistics.fmean(ms):.2f} ms")
    print(f"pops sent on the PBX's ringing event (fast path): {fast}; after the ACD's agent.ringing: "
          f"{len(segments)}")
    if segments:
        ms = [x * 1000 for x in segments]
        print(f"  those: agent.ringing on the bus → pop at the WebSocket: p50 {pct(ms, 0.5):.2f} ms, "
              f"p99 {pct(ms, 0.99):.2f} ms")
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
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
