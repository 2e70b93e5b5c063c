"""Bench: historical KPI report on 1,000,000 synthetic calls in PostgreSQL.

    .venv/bin/python bench/kpi_report.py [--calls 1000000] [--days 10] [--queues 8] [--db URL] [--repeat 5]
                                         [--legacy-keys]

Without ``--db`` a throw-away PostgreSQL cluster is started (the test-suite's ``tests/servers/postgres.py``).
Builds the schema with the project's migrations, loads ``calls`` + ``queue_segments`` with COPY, ANALYZE,
then times the day-by-interval (30 min) report per queue — ``ctiserver.kpi.historical.queue_report`` for one
day, all queues — and, for reference, the whole range by day. Target: the day report < 1 s. Then the day's
call-level summary as ``GET /api/reports/summary`` computes it (FCR judged once, ``queue_summary`` and
``call_summary``), twice: with the rows' ``caller_key`` as the daemon writes it, and with it NULL (rows written
before migration core_0003: every number is parsed at report time) — or only the latter with ``--legacy-keys``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctiserver.kpi.historical import queue_report  # noqa: E402
from ctiserver.kpi.summary import call_summary, judge_contacts, queue_summary  # noqa: E402
from ctiserver.store import migrate  # noqa: E402
from ctiserver.store.caller_key import caller_key  # noqa: E402
from ctiserver.store.engine import make_engine, session_factory  # noqa: E402

T0 = 1_795_305_600.0  # 2026-11-22 00:00 UTC
DAY = 86_400.0


def synth(
    n: int, days: int, queues: int, seed: int = 1
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rnd = random.Random(seed)
    names = [f"queue{i}" for i in range(queues)]
    agents = [f"Agent {1000 + i}" for i in range(200)]
    calls, segs = [], []
    for i in range(n):
        day = rnd.randrange(days)
        # arrivals peak mid-day: two overlapping normal curves, clipped to the day
        tod = min(
            DAY - 1,
            max(
                0.0,
                rnd.gauss(11 * 3600, 2.5 * 3600) if rnd.random() < 0.6 else rnd.gauss(16 * 3600, 2 * 3600),
            ),
        )
        start = T0 + day * DAY + tod
        q = names[min(queues - 1, int(rnd.paretovariate(1.5)) - 1)]
        r = rnd.random()
        cid = f"synthetic-{i}"
        wait = rnd.expovariate(1 / 25)
        if r < 0.85:
            outcome, talk, agent = "answered", rnd.expovariate(1 / 180), rnd.choice(agents)
            answered: float | None = start + wait
        elif r < 0.97:
            outcome, talk, agent, answered = "abandoned", None, None, None
        else:
            outcome, talk, agent, answered = "timeout", None, None, None
        end = start + wait + (talk or 0.0)
        calls.append(
            (
                cid,
                "ended",
                start,
                start,
                answered,
                end,
                "hangup",
                "in",
                f"555{i % 100000:05d}",
                "",
                None,
                None,
                0.0,
                0.0,
                False,
                "{}",
                "[]",
                "[]",
            )
        )
        segs.append(
            (
                cid,
                0,
                q,
                cid,
                f"555{i % 100000:05d}",
                start,
                start + wait,
                1,
                outcome,
                answered,
                wait,
                agent,
                None,
                talk,
                rnd.choice((0.0, 0.0, 0.0, 15.0)) if talk else 0.0,
                rnd.uniform(5, 30) if talk else 0.0,
                None,
                None,
                None,
            )
        )
    # the database receives calls in the order they end, i.e. (almost) chronologically: load them that way
    order = sorted(range(n), key=lambda i: calls[i][2])
    return [calls[i] for i in order], [segs[i] for i in order]


CALL_COLS = [
    "call_id",
    "state",
    "started",
    "answered",
    "connected",
    "ended",
    "end_reason",
    "direction",
    "caller_num",
    "caller_name",
    "caller_key",
    "self_service",
    "disposition",
    "hold_seconds",
    "wrapup_seconds",
    "blocked",
    "data",
    "ivr_path",
    "transfers",
]
SEG_COLS = [
    "call_id",
    "seq",
    "queue",
    "caller_uniqueid",
    "caller_num",
    "entered",
    "left",
    "position",
    "outcome",
    "answered",
    "wait_seconds",
    "agent",
    "agent_uniqueid",
    "talk_seconds",
    "hold_seconds",
    "wrapup_seconds",
    "complete_reason",
    "transfer_kind",
    "abandon_position",
]


async def load(url: str, n: int, days: int, queues: int) -> None:
    import asyncpg

    t = time.perf_counter()
    calls, segs = synth(n, days, queues)
    key_at = CALL_COLS.index("caller_key")
    # as the daemon writes them (``CallRepository``, region US)
    calls = [(*c[:key_at], caller_key(c[key_at - 2]), *c[key_at:]) for c in calls]
    print(f"generated   {n:,} calls in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("TRUNCATE calls, queue_segments")
        await conn.copy_records_to_table("calls", records=calls, columns=CALL_COLS)
        await conn.copy_records_to_table("queue_segments", records=segs, columns=SEG_COLS)
        await conn.execute("ANALYZE calls; ANALYZE queue_segments")
    finally:
        await conn.close()
    print(f"loaded      {n:,} calls + segments (COPY) in {time.perf_counter() - t:.1f} s")


async def timed(url: str, repeat: int, days: int, legacy_only: bool = False) -> None:
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        day = T0 + (days // 2) * DAY
        runs = []
        rows: list[Any] = []
        for _ in range(repeat):
            async with sessions() as s:
                t = time.perf_counter()
                rows = await queue_report(s, day, day + DAY, interval=1800)
                runs.append(time.perf_counter() - t)
        offered = sum(r.kpis.offered for r in rows)
        print(
            f"day report  {len(rows)} rows (queue × 30 min) over {offered:,} calls: "
            f"best {min(runs) * 1000:.0f} ms, median {statistics.median(runs) * 1000:.0f} ms "
            f"(target < 1000 ms)"
        )
        async with sessions() as s:
            t = time.perf_counter()
            rows = await queue_report(s, T0, T0 + days * DAY, interval=DAY)
            took = time.perf_counter() - t
        print(
            f"range report {len(rows)} rows (queue × day) over {sum(r.kpis.offered for r in rows):,} calls: "
            f"{took * 1000:.0f} ms"
        )
        for legacy in (False, True) if not legacy_only else (True,):
            if legacy:
                async with sessions() as s, s.begin():
                    await s.execute(text("UPDATE calls SET caller_key = NULL"))
            runs, judged, parts = [], {}, []
            for _ in range(repeat):
                async with sessions() as s:
                    t = time.perf_counter()
                    judged = await judge_contacts(s, day, day + DAY, now=day + 3 * DAY)
                    t1 = time.perf_counter()
                    await queue_summary(s, day, day + DAY, judged=judged)
                    t2 = time.perf_counter()
                    await call_summary(s, day, day + DAY, judged=judged)
                    runs.append(time.perf_counter() - t)
                    parts.append((t1 - t, t2 - t1, t + runs[-1] - t2))
            best = parts[runs.index(min(runs))]
            print(
                f"day summary ({'caller_key NULL, numbers parsed' if legacy else 'stored caller_key'}) "
                f"{len(judged):,} calls judged: best {min(runs) * 1000:.0f} ms "
                f"(FCR {best[0] * 1000:.0f}, per queue {best[1] * 1000:.0f}, calls {best[2] * 1000:.0f}), "
                f"median {statistics.median(runs) * 1000:.0f} ms"
            )
    finally:
        await engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--queues", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--legacy-keys", action="store_true", help="time the summary on NULL caller_key only")
    ap.add_argument("--db", help="postgresql+asyncpg://... (default: a throw-away local cluster)")
    args = ap.parse_args()
    server = None
    url = args.db
    if url is None:
        sys.path.insert(0, str(ROOT))
        from tests.servers.postgres import PostgresServer

        server = PostgresServer()
        server.init()
        server.start()
        url = server.url(server.create_database())
    try:
        migrate.upgrade(url)
        asyncio.run(load(url, args.calls, args.days, args.queues))
        asyncio.run(timed(url, args.repeat, args.days, args.legacy_keys))
    finally:
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
