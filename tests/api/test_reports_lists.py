"""``GET /api/reports/kpi`` over HTTP reads the historical KPIs from the daemon's database (the SQL of
``ctiserver kpi report``); ``GET /api/pause-reasons`` and ``/api/dispositions`` serve the ``acd:`` lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.store.database import Database
from ctiserver.store.models import QueueSegmentRow
from tests.api.harness import Daemon, daemon

DAY0 = 1_793_491_200.0  # 2026-11-01T00:00:00Z


async def _segments(d: Daemon, rows: list[tuple[str, float, str, float]]) -> None:
    db = d.ctx.require(Database)
    assert db.migrated
    async with db.sessions.begin() as s:
        for i, (queue, entered, outcome, wait) in enumerate(rows):
            answered = outcome == "answered"
            s.add(
                QueueSegmentRow(
                    call_id=f"c{i}",
                    seq=0,
                    queue=queue,
                    caller_uniqueid=f"u{i}",
                    entered=entered,
                    left=entered + wait,
                    outcome=outcome,
                    wait_seconds=wait,
                    agent="1001" if answered else None,
                    answered=entered + wait if answered else None,
                    talk_seconds=60.0 if answered else None,
                    hold_seconds=0.0,
                    wrapup_seconds=10.0 if answered else 0.0,
                )
            )


async def _get(http: aiohttp.ClientSession, d: Daemon, path: str, role: str) -> tuple[int, Any]:
    async with http.get(d.url + path, headers=d.auth(role)) as resp:
        return resp.status, await resp.json()


async def test_kpi_report_by_interval_queue_and_agent(tmp_path: Path) -> None:
    kpi = {"sl_seconds": 20, "queues": {"sales": {"sl_seconds": 60}}}
    async with daemon(tmp_path, kpi=kpi) as d, aiohttp.ClientSession() as http:
        await _segments(
            d,
            [
                ("support", DAY0 + 60, "answered", 10.0),  # 00:00 bucket, in SL
                ("support", DAY0 + 120, "answered", 30.0),  # out of SL (20 s)
                ("support", DAY0 + 1900, "abandoned", 40.0),  # 00:30 bucket
                ("sales", DAY0 + 200, "answered", 45.0),  # in SL for sales (60 s)
                ("support", DAY0 + 86_400 + 5, "answered", 1.0),  # next day: outside the range
            ],
        )
        status, rep = await _get(http, d, "/api/reports/kpi?from=2026-11-01&to=2026-11-02", "supervisor")
        assert status == 200, rep
        got = {(r["queue"], r["bucket"]): r for r in rep["rows"]}
        assert set(got) == {("sales", DAY0), ("support", DAY0), ("support", DAY0 + 1800)}
        assert got[("support", DAY0)]["offered"] == 2
        assert got[("support", DAY0)]["service_level"] == pytest.approx(0.5)
        assert got[("sales", DAY0)]["service_level"] == pytest.approx(1.0)
        assert got[("sales", DAY0)]["sl_seconds"] == 60
        assert got[("support", DAY0 + 1800)]["abandoned"] == 1
        totals = {t["start"]: t for t in rep["intervals"]}
        assert totals[DAY0]["answered"] == 3 and totals[DAY0]["service_level"] == pytest.approx(2 / 3)
        assert totals[DAY0 + 1800]["abandoned"] == 1 and totals[DAY0 + 1800]["service_level"] == 0

        status, rep = await _get(
            http, d, f"/api/reports/kpi?from={DAY0}&to={DAY0 + 2 * 86_400}&queue=support&interval=day", "crm"
        )
        assert status == 200, rep
        assert [(r["bucket"], r["offered"]) for r in rep["rows"]] == [(DAY0, 3), (DAY0 + 86_400, 1)]

        status, rep = await _get(http, d, f"/api/reports/kpi?since={DAY0}&until={DAY0 + 86_400}&by=agent", "admin")
        assert status == 200, rep
        assert [(r["agent"], r["handled"]) for r in rep["rows"]] == [("1001", 3)]


async def test_kpi_report_refuses_bad_input_and_agents(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        cases = {
            "/api/reports/kpi?to=2026-11-02": "query.from",
            "/api/reports/kpi?from=2026-11-02": "query.to",
            "/api/reports/kpi?from=2026-11-02&to=2026-11-01": "query.to",
            "/api/reports/kpi?from=yesterday&to=2026-11-01": "query.from",
            "/api/reports/kpi?from=2026-11-01&to=2026-11-02&interval=7m": "query.interval",
            "/api/reports/kpi?from=2026-11-01&to=2026-11-02&by=caller": "query.by",
            "/api/reports/kpi?from=2020-01-01&to=2026-11-02": "query.to",
            "/api/reports/kpi?from=2026-11-01&to=2026-11-02&nope=1": "query.nope",
        }
        for path, field in cases.items():
            status, body = await _get(http, d, path, "supervisor")
            assert status in (400, 422) and body["field"] == field, (path, status, body)
        status, body = await _get(http, d, "/api/reports/kpi?from=2026-11-01&to=2026-11-02", "agent")
        assert status == 403 and body["code"] == "forbidden"
        status, body = await _get(http, d, "/api/reports/kpi?from=2026-11-01&to=2026-11-02", "supervisor")
        assert status == 200 and body["rows"] == [] and body["intervals"] == []


async def test_pause_reasons_and_dispositions_come_from_the_acd_section(tmp_path: Path) -> None:
    acd = {
        "pause_reasons": ["coffee", "coaching", "missed", "unreachable"],
        "dispositions": ["solved", "callback"],
    }
    async with daemon(tmp_path, acd=acd) as d, aiohttp.ClientSession() as http:
        for role in ("agent", "supervisor", "admin", "crm"):
            status, reasons = await _get(http, d, "/api/pause-reasons", role)
            assert status == 200, reasons
            assert [(r["code"], r["automatic"]) for r in reasons] == [
                ("coffee", False),
                ("coaching", False),
                ("missed", True),
                ("unreachable", True),
            ]
            status, dispos = await _get(http, d, "/api/dispositions", role)
            assert status == 200 and [x["code"] for x in dispos] == ["solved", "callback"]
        async with http.get(d.url + "/api/dispositions") as resp:
            assert resp.status == 401
