"""IVR load: N concurrent calls running the example scripts over ARI, simulator in its own process.

    .venv/bin/python bench/ivr_load.py --calls 200

The simulated PBX (ctiserver.sim) runs in a child process; the engine side is wired as in the daemon
(AriLink → AriCallControl → StasisRouter → IvrService) with the scripts of ivr_scripts/. Half of the callers
pick "3" (support queue hand-over), half "2" (account self-service: 8-digit account, balance over HTTP,
goodbye).
All digits are typed ahead at once; the IVR's DTMF buffer hands them to each prompt in order.
Reports calls that ended as expected, errors, and the engine's event-loop lag (p50/p99/max); on a loaded
machine much of the lag is time the OS gave to other processes, so ``loop_lag_own_cpu_ms`` also shows the
part of each lag sample that the engine's own CPU time explains.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _sim_process(conn: Any, calls: int, spread: float) -> None:
    async def main() -> None:
        from ctiserver.sim.config import SimConfig, Step, _default_dialplan
        from ctiserver.sim.simulator import Simulator

        plan = _default_dialplan()
        plan["queues"] = {"support": (Step(app="Answer"), Step(app="Wait", data="3"), Step(app="Hangup"))}
        async with Simulator(SimConfig(dialplan=plan, default_sound_seconds=1.0), seed=5) as sim:
            conn.send(sim.ari_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "go"
            handles = []
            for i in range(calls):
                at = spread * i / max(1, calls)
                digits = "3" if i % 2 == 0 else "2" + "23456789#" + "2"
                dtmf = [(0.5 + 0.05 * k, d) for k, d in enumerate(digits)]
                handles.append(
                    sim.place_call(
                        from_number=f"+3804400{i:05d}", to="100", dtmf=dtmf, at=at, hangup_after=60
                    )
                )
            await asyncio.gather(*(h.done.wait() for h in handles))
            conn.send("done")
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


async def engine(url: str, conn: Any, calls: int) -> dict[str, Any]:
    from pydantic import SecretStr

    from ctiserver.clock import SystemClock
    from ctiserver.config import AriConfig
    from ctiserver.control.ari import AriCallControl
    from ctiserver.control.ari_link import AriLink
    from ctiserver.control.router import StasisRouter
    from ctiserver.events.bus import InMemoryBus
    from ctiserver.ivr.config import IvrConfig
    from ctiserver.ivr.registry import ScriptRegistry
    from ctiserver.ivr.run_state import Services
    from ctiserver.ivr.service import IvrService
    from ctiserver.ivr.simulate import StaticHttp

    class OfficeHours(SystemClock):
        offset = dt.datetime.fromisoformat("2026-11-23T11:00:00+02:00").timestamp() - time.time()

        def now(self) -> float:
            return time.time() + self.offset

    clock = OfficeHours()
    lags: list[float] = []
    own: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            t0, c0 = loop.time(), time.process_time()
            await asyncio.sleep(0.01)
            lag = max(0.0, loop.time() - t0 - 0.01)
            lags.append(lag)
            own.append(min(lag, time.process_time() - c0))  # the part of the lag our own CPU work explains

    cfg = AriConfig(url=url, username="cti", password=SecretStr("cti-secret"))
    async with AriLink(cfg, SystemClock()) as link, StasisRouter() as router:
        await asyncio.wait_for(link.connected.wait(), 30)
        control = AriCallControl(link, clock, router=router)
        link.on_event(control.feed)
        registry = ScriptRegistry(ROOT / "ivr_scripts", clock)
        await registry.reload()
        bus = InMemoryBus()
        services = Services(http=StaticHttp({"balance": 10, "status": "ok"}), bus=bus, scripts=registry.get)
        service = IvrService(IvrConfig(keep_sessions=calls * 2), control, clock, registry, services)
        router.register("did", service.handle_did)
        await link.request("GET", "/channels")  # warm the REST connection pool (TLS/DNS set-up is one-off)
        prober = asyncio.create_task(probe())
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        conn.send("go")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # every caller hung up
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        stop.set()
        await prober
        sessions = list(service.finished.values())
        requests = control.requests
        failures = router.failures
    conn.send("bye")
    expected = Counter()
    for s in sessions:
        ok = (s.path[-1] == "support" and s.end.value == "queue") or (
            s.path[-1] == "goodbye_served" and s.outcome == "self_service" and s.vars.get("balance") == "10"
        )
        expected["ok" if ok else f"unexpected {s.end} {s.path[-3:]}"] += 1
    lags.sort()
    own.sort()
    return {
        "calls": calls,
        "sessions": len(sessions),
        "results": dict(expected),
        "handler_failures": failures,
        "ari_requests": requests,
        "wall_s": round(wall, 2),
        "engine_cpu_s": round(cpu, 2),
        "loop_lag_ms": {
            "p50": round(1000 * statistics.median(lags), 2),
            "p99": round(1000 * lags[int(0.99 * (len(lags) - 1))], 2),
            "max": round(1000 * lags[-1], 2),
            "samples": len(lags),
        },
        "loop_lag_own_cpu_ms": {
            "p50": round(1000 * statistics.median(own), 2),
            "p99": round(1000 * own[int(0.99 * (len(own) - 1))], 2),
            "max": round(1000 * own[-1], 2),
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--spread", type=float, default=2.0, help="seconds over which the calls arrive")
    args = ap.parse_args()
    from ctiserver.logs import setup_logging

    setup_logging("WARNING")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sim_process, args=(child, args.calls, args.spread), daemon=True)
    proc.start()
    url = parent.recv()
    report = asyncio.run(engine(url, parent, args.calls))
    proc.join(10)
    for k, v in report.items():
        print(f"{k}: {v}")
    bad = (
        report["sessions"] != args.calls
        or report["results"].get("ok") != args.calls
        or report["handler_failures"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
