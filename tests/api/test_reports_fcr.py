"""``GET /api/reports/summary`` gives the call-level KPIs of the period (FCR repeat- and disposition-based,
self-service %, calls per agent per day) overall and per queue, and ``GET /api/reports/kpi.csv`` exports the
KPI report with that summary as CSV — over HTTP against the daemon, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.store.database import Database
from ctiserver.store.repository import CallRepository
from tests.api.harness import Daemon, daemon

DAY0 = 1_793_491_200.0  # 2026-11-01T00:00:00Z
H = 3600.0
RANGE = "from=2026-11-01&to=2026-11-02"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"url": f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite", "spool_dir": str(tmp_path / "spool")}
    return {"url": str(request.getfixturevalue("pg_database")), "spool_dir": str(tmp_path / "spool")}


def _call(
    cid: str,
    at: float,
    num: str,
    segs: tuple[tuple[str, str | None], ...] = (),
    *,
    disposition: str | None = None,
    ivr: bool = False,
    self_service: str | None = None,
) -> dict[str, Any]:
    queues = [
        {
            "queue": queue,
            "caller_uniqueid": cid,
            "entered": at + 10 * i,
            "left": at + 10 * i + 5,
            "outcome": "answered" if agent else "abandoned",
            "answered": at + 10 * i + 5 if agent else None,
            "wait_seconds": 5.0,
            "agent": agent,
            "talk_seconds": 60.0 if agent else None,
        }
        for i, (queue, agent) in enumerate(segs)
    ]
    leg = {
        "uniqueid": cid,
        "linkedid": cid,
        "channel": f"PJSIP/trunk-{cid}",
        "role": "caller",
        "direction": "in",
        "created": at,
        "answered": at,
        "ended": at + 120,
        "hangup_cause": 16,
        "hold": [],
    }
    return {
        "call_id": cid,
        "state": "ended",
        "started": at,
        "answered": at,
        "ended": at + 120,
        "direction": "in",
        "caller_num": num,
        "legs": [leg],
        "queues": queues,
        "ivr_path": [{"node": "menu"}] if ivr else [],
        "self_service": self_service,
        "disposition": disposition,
    }


CALLS = [
    _call("c1", DAY0 + 1 * H, "+12125550100", (("support", "1001"),), disposition="solved", ivr=True),
    _call("c2", DAY0 + 2 * H, "+12125550111", (("sales", "1002"),), disposition="other", ivr=True),
    _call("c3", DAY0 + 3 * H, "+12125550100", (("sales", "1002"),), disposition="solved"),  # repeats c1
    _call("c4", DAY0 + 4 * H, "+12125550122", (("support", None),)),  # abandoned
    _call("c5", DAY0 + 5 * H, "+12125550133", ivr=True, self_service="balance"),  # self-served in the IVR
    _call("c6", DAY0 + 6 * H, "+12125550144", (("support", "1001"),)),
    _call("c7", DAY0 + 7 * H, "+12125550144", (("support", "1003"),)),  # repeats c6 within 2 h
    _call("c8", DAY0 + 24 * H + 3 * H, "+12125550122"),  # next day: 23 h after c4, within the 24 h window
]


async def _load(d: Daemon) -> None:
    await CallRepository(d.ctx.require(Database).sessions).apply([{"kind": "call", "data": c} for c in CALLS])


async def test_fcr_self_service_and_calls_per_agent_overall_and_per_queue(
    tmp_path: Path, database: dict[str, str]
) -> None:
    kpi = {"fcr_resolved_dispositions": ["solved"]}
    async with daemon(tmp_path, database=database, kpi=kpi) as d, aiohttp.ClientSession() as http:
        await _load(d)
        async with http.get(f"{d.url}/api/reports/summary?{RANGE}", headers=d.auth("supervisor")) as resp:
            assert resp.status == 200, await resp.text()
            rep = await resp.json()
        assert rep["fcr_window_hours"] == 24
        s = rep["summary"]
        # judged: c1 ✗ (c3), c2 ✓, c3 ✓, c4 ✗ (c8), c5 ✓, c6 ✗ (c7), c7 ✓
        assert (s["calls"], s["fcr_repeat_contacts"], s["fcr_repeat"]) == (7, 7, pytest.approx(4 / 7))
        assert (s["fcr_disposition_calls"], s["fcr_disposition"]) == (3, pytest.approx(2 / 3))
        assert s["self_service_rate"] == pytest.approx(1 / 3)  # c5 of the IVR calls c1, c2, c5
        assert s["calls_per_agent_per_day"] == pytest.approx(5 / 3)  # 1001: 2, 1002: 2, 1003: 1
        by = {q["queue"]: q for q in rep["queue_summary"]}
        assert sorted(by) == ["sales", "support"]
        sup, sales = by["support"], by["sales"]
        assert (sup["calls"], sup["fcr_repeat_contacts"], sup["fcr_repeat"]) == (4, 4, pytest.approx(1 / 4))
        assert (sup["handled"], sup["agents"], sup["calls_per_agent_per_day"]) == (3, 2, pytest.approx(1.5))
        assert (sup["fcr_disposition_calls"], sup["fcr_disposition"]) == (1, 1.0)
        assert (sales["calls"], sales["fcr_repeat"], sales["fcr_disposition"]) == (2, 1.0, pytest.approx(1 / 2))
        assert (sales["handled"], sales["agents"], sales["calls_per_agent_per_day"]) == (2, 1, 2.0)

        async with http.get(f"{d.url}/api/reports/summary?{RANGE}&queue=sales", headers=d.auth("crm")) as resp:
            one = await resp.json()
        assert one["summary"] is None and one["queue_summary"] == [sales]
        for path, field in {
            "/api/reports/summary?to=2026-11-02": "query.from",
            "/api/reports/summary?from=2026-11-02&to=2026-11-01": "query.to",
            f"/api/reports/summary?{RANGE}&interval=day": "query.interval",
        }.items():
            async with http.get(d.url + path, headers=d.auth("admin")) as resp:
                assert resp.status == 422 and (await resp.json())["field"] == field, path
        async with http.get(f"{d.url}/api/reports/summary?{RANGE}", headers=d.auth("agent")) as resp:
            assert resp.status == 403


async def test_csv_export_has_the_rows_and_the_summary(tmp_path: Path) -> None:
    database = {"url": f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite", "spool_dir": str(tmp_path / "spool")}
    async with daemon(tmp_path, database=database) as d, aiohttp.ClientSession() as http:
        await _load(d)
        url = f"{d.url}/api/reports/kpi.csv?{RANGE}&interval=day"
        async with http.get(url, headers=d.auth("supervisor")) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/csv"
            assert "attachment" in resp.headers["Content-Disposition"]
            text = await resp.text()
        rows_part, summary_part = text.split("\r\n\r\n")
        rows = list(csv.DictReader(io.StringIO(rows_part)))
        assert [(r["queue"], r["offered"], r["answered"]) for r in rows] == [("sales", "2", "2"), ("support", "4", "3")]
        summary = {r["queue"]: r for r in csv.DictReader(io.StringIO(summary_part))}
        assert list(summary) == ["sales", "support", "(all)"]
        assert float(summary["support"]["fcr_repeat"]) == pytest.approx(1 / 4)
        assert summary["support"]["self_service_rate"] == ""  # a call-level KPI, not a queue's
        assert float(summary["(all)"]["fcr_repeat"]) == pytest.approx(4 / 7)
        assert float(summary["(all)"]["self_service_rate"]) == pytest.approx(1 / 3)
        assert float(summary["(all)"]["calls_per_agent_per_day"]) == pytest.approx(5 / 3)

        url = f"{d.url}/api/reports/kpi.csv?{RANGE}&by=agent"
        async with http.get(url, headers=d.auth("admin")) as resp:
            agents = list(csv.DictReader(io.StringIO(await resp.text())))
        assert [(a["agent"], a["handled"]) for a in agents] == [("1001", "2"), ("1002", "2"), ("1003", "1")]

        async with http.get(f"{d.url}/api/reports/kpi.csv?{RANGE}", headers=d.auth("agent")) as resp:
            assert resp.status == 403
        async with http.get(f"{d.url}/api/reports/kpi.csv?to=2026-11-01", headers=d.auth("admin")) as resp:
            assert resp.status == 422 and (await resp.json())["field"] == "query.from"
