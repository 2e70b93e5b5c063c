"""A campaign's productivity report per UTC day (``dialer/campaign_report.py``): checked against a plain count of
the stored attempts (memory and SQLite stores), served as JSON and CSV over HTTP (roles, a bad period) and
printed by the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from ctiserver.cli import main
from ctiserver.dialer.campaign_report import COLUMNS, campaign_report
from ctiserver.dialer.model import AttemptRecord, Outcome
from ctiserver.dialer.service import DialerService
from tests.api.harness import daemon
from tests.api.test_dialer_api import COMPONENTS, call
from tests.dialer.sql_store import memory_or_sqlite

T0 = 1_799_971_200.0  # 2027-01-15 00:00 UTC


def _attempts(seed: int = 11) -> list[AttemptRecord]:
    rnd = random.Random(seed)
    out = []
    for n in range(900):
        outcome = rnd.choice(list(Outcome))
        started = T0 + rnd.uniform(0.0, 3 * 86400.0)
        talked = outcome is Outcome.HUMAN and rnd.random() < 0.9
        out.append(
            AttemptRecord(
                f"a{n}", "c1" if n % 4 else "c2", f"k{n % 200}", f"+4930{n % 200:07d}", started, outcome,
                started + 40.0, talk_seconds=rnd.uniform(30, 300) if talked else None,
                connected=started + 10.0 if talked else None, late=talked and rnd.random() < 0.05,
            )
        )  # fmt: skip
    return out


def _plain(attempts: list[AttemptRecord], day: str) -> dict[str, object]:
    mine = [
        a for a in attempts if a.campaign == "c1" and datetime.fromtimestamp(a.started, UTC).date().isoformat() == day
    ]
    connected = [a for a in mine if a.connected is not None]
    answered = [a for a in mine if a.outcome in (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)]
    return {
        "attempts": len(mine),
        "contacts": len({a.contact_id for a in mine}),
        "outcomes": {o.value: sum(a.outcome is o for a in mine) for o in Outcome},
        "connected": len(connected),
        "late": sum(a.late for a in mine),
        "abandoned_total": sum(a.outcome is Outcome.ABANDONED or a.late for a in mine),
        "answer_rate": pytest.approx(len(answered) / len(mine)),
        "connect_rate": pytest.approx(len(connected) / len(mine)),
        "talk_seconds": pytest.approx(sum(a.talk_seconds or 0.0 for a in mine)),
        "avg_talk": pytest.approx(sum(a.talk_seconds or 0.0 for a in connected) / len(connected)),
    }


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_the_report_is_a_count_of_the_stored_attempts(kind: str, tmp_path: Path) -> None:
    attempts = _attempts()
    async with memory_or_sqlite(kind, tmp_path) as store:
        for a in attempts:
            await store.record_attempt(a)
        days = await campaign_report(store, "c1", T0 + 86400.0, T0 + 3 * 86400.0)
        everything = await campaign_report(store, "c1", T0, T0 + 3 * 86400.0)
    assert [d.day for d in days] == ["2027-01-16", "2027-01-17"] and len(everything) == 3
    for d in days:
        got = {k: v for k, v in asdict(d).items() if k != "day"}
        assert got == _plain(attempts, d.day), d.day
    assert all(d.late > 0 for d in everything) and all(d.contacts < d.attempts for d in everything)


async def test_the_report_over_http_as_json_and_csv_and_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts = [a for a in _attempts() if a.campaign == "c1"]
    base = "/api/dialer/campaigns/c1"
    period = "from=2027-01-15&to=2027-01-18"
    async with (
        daemon(tmp_path, components=COMPONENTS, simulator={"enabled": True}) as d,
        aiohttp.ClientSession() as http,
    ):
        assert (await call(http, d, "POST", "/api/dialer/campaigns", json={"name": "c1"}))[0] == 201
        service = d.ctx.require(DialerService)
        for a in attempts:
            await service.store.record_attempt(a)
        want = await campaign_report(service.store, "c1", T0, T0 + 3 * 86400.0)
        status, body = await call(http, d, "GET", f"{base}/report?{period}", role="crm")
        assert status == 200 and body["days"] == json.loads(json.dumps([asdict(x) for x in want])), body
        async with http.get(d.url + f"{base}/report.csv?{period}", headers=d.auth("supervisor")) as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert "campaign-c1-" in resp.headers["Content-Disposition"]
            rows = list(csv.reader(io.StringIO(await resp.text())))
        assert tuple(rows[0]) == COLUMNS and len(rows) == 4
        assert rows[1] == [str(c) for c in want[0].cells()]
        assert (await call(http, d, "GET", f"{base}/report?{period}", role="agent"))[0] == 403
        status, body = await call(http, d, "GET", f"{base}/report?from=2027-01-18&to=2027-01-15")
        assert (status, body["field"]) == (422, "query.to"), body
        status, body = await call(http, d, "GET", f"/api/dialer/campaigns/nope/report?{period}")
        assert (status, body["field"]) == (404, "name"), body
    db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"]  # the harness's database
    args = ["dialer", *db, "campaign", "report", "c1", "--from", "2027-01-15", "--to", "2027-01-18"]
    capsys.readouterr()  # the daemon's log lines
    assert await asyncio.to_thread(main, args) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].startswith(f"2027-01-15  {want[0].attempts:8d}")
    assert await asyncio.to_thread(main, [*args, "--csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == rows
