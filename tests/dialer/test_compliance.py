"""A campaign's abandonment record (``dialer/compliance.py``): per UTC day and the worst rolling window of its
regime, AMD's estimated false positives in both numbers — checked against a plain count of the stored attempts
(memory and SQLite stores), served over HTTP (roles, bad periods) and printed by the CLI."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from ctiserver.cli import main
from ctiserver.dialer.compliance import AbandonmentRecord, abandonment_record
from ctiserver.dialer.model import AttemptRecord, CampaignSettings, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import DialerStore, MemoryDialerStore
from tests.api.harness import daemon
from tests.api.test_dialer_api import COMPONENTS, call
from tests.dialer.sql_store import memory_or_sqlite

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 86400.0  # a UTC midnight
FP = 0.1


def _attempts(seed: int = 7) -> Iterator[AttemptRecord]:
    rnd = random.Random(seed)
    kinds = [Outcome.HUMAN] * 80 + [Outcome.ABANDONED] + [Outcome.MACHINE] * 8 + [Outcome.NOANSWER] * 20
    for n in range(1500):
        outcome = rnd.choice(kinds)
        ended = T0 + rnd.uniform(0.0, 3 * 86400.0)
        late = outcome is Outcome.HUMAN and rnd.random() < 0.005
        camp = "c1" if n % 5 else "c2"
        yield AttemptRecord(f"a{n}", camp, f"k{n}", f"+4930{n:07d}", ended - 30.0, outcome, ended, late=late)


def _expected(attempts: list[AttemptRecord], since: float, until: float, length: float) -> dict[str, object]:
    """The record counted attempt by attempt (hour ends only: the period is on whole hours)."""
    mine = [a for a in attempts if a.campaign == "c1"]

    def tally(rows: list[AttemptRecord]) -> tuple[float, float, int]:
        machines = sum(a.outcome is Outcome.MACHINE for a in rows)
        live = sum(a.outcome in (Outcome.HUMAN, Outcome.ABANDONED) for a in rows)
        abandoned = sum(a.outcome is Outcome.ABANDONED or a.late for a in rows)
        return live + FP * machines, abandoned + FP * machines, machines

    days: dict[str, list[AttemptRecord]] = {}
    for a in mine:
        if since <= a.ended < until:
            days.setdefault(datetime.fromtimestamp(a.ended, UTC).date().isoformat(), []).append(a)
    rates = []
    for h in range(1, int((until - since) // 3600) + 1):
        end = since + h * 3600.0
        live, abandoned, _ = tally([a for a in mine if end - length <= a.ended < end])
        if live:
            rates.append((abandoned / live, end))
    day_rows = {}
    for day, rows in days.items():
        live, abandoned, machines = tally(rows)
        day_rows[day] = (machines, round(abandoned / live, 9))
    return {"days": day_rows, "worst": max(rates), "over": sum(r > 0.03 for r, _ in rates)}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("window", ["24h", "30d"])
async def test_the_record_is_a_count_of_the_stored_attempts(kind: str, window: str, tmp_path: Path) -> None:
    settings = CampaignSettings(name="c1", abandon_window=window, amd_false_positive_rate=FP)
    attempts = list(_attempts())
    since, until = T0 + 86400.0, T0 + 3 * 86400.0
    async with memory_or_sqlite(kind, tmp_path) as store:
        for a in attempts:
            await store.record_attempt(a)
        rec = await abandonment_record(store, settings, since, until)
    want = _expected(attempts, since, until, settings.abandon_window_seconds)
    assert {d.day: (d.machines, round(d.rate, 9)) for d in rec.days} == want["days"]
    assert len(rec.days) == 2 and all(d.false_positives == pytest.approx(FP * d.machines) for d in rec.days)
    assert rec.worst is not None and (rec.worst.rate, rec.worst.end) == pytest.approx(want["worst"])
    # the seed's second day crosses 3 % in some 24-h windows (7 hour ends); its 30-day window stays at 2.6 %
    assert rec.hours_over_cap == want["over"]
    assert 0 < rec.hours_over_cap < 48 if window == "24h" else rec.hours_over_cap == 0
    plain = await _plain_record(attempts, settings, since, until)
    assert plain.worst is not None and plain.worst.rate < rec.worst.rate  # the estimate raises the rate


async def _plain_record(
    attempts: list[AttemptRecord], settings: CampaignSettings, since: float, until: float
) -> AbandonmentRecord:
    store: DialerStore = MemoryDialerStore()
    for a in attempts:
        await store.record_attempt(a)
    return await abandonment_record(store, settings.model_copy(update={"amd_false_positive_rate": 0.0}), since, until)


async def test_the_record_over_http_and_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attempts = [a for a in _attempts() if a.campaign == "c1"]
    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"  # the harness's database
    base = "/api/dialer/campaigns/c1"
    async with (
        daemon(tmp_path, components=COMPONENTS, simulator={"enabled": True}) as d,
        aiohttp.ClientSession() as http,
    ):
        made = {"name": "c1", "abandon_window": "24h", "amd_false_positive_rate": FP}
        assert (await call(http, d, "POST", "/api/dialer/campaigns", json=made))[0] == 201
        status, body = await call(
            http, d, "POST", "/api/dialer/campaigns", json={"name": "c3", "amd": False, "amd_false_positive_rate": FP}
        )
        assert status == 422 and "amd_false_positive_rate" in body["message"], body
        service = d.ctx.require(DialerService)
        for a in attempts:
            await service.store.record_attempt(a)
        want = await abandonment_record(service.store, service.runners["c1"].settings, T0, T0 + 3 * 86400.0)
        status, body = await call(http, d, "GET", f"{base}/abandonment?from={T0:.0f}&to={T0 + 3 * 86400.0:.0f}")
        assert status == 200 and body == json.loads(json.dumps(asdict(want))), body
        assert len(body["days"]) == 3 and body["false_positive_rate"] == FP and body["window"] == "24h"
        iso = await call(http, d, "GET", f"{base}/abandonment?from=2027-01-15&to=2027-01-18", role="crm")
        assert iso[0] == 200 and [r["day"] for r in iso[1]["days"]] == ["2027-01-15", "2027-01-16", "2027-01-17"]
        for query, field in (
            ("to=2027-01-18", "query.from"),
            ("from=2027-01-18&to=2027-01-15", "query.to"),
            ("from=yesterday&to=2027-01-15", "query.from"),
        ):
            status, body = await call(http, d, "GET", f"{base}/abandonment?{query}")
            assert (status, body["field"]) in ((422, field), (400, field)), (query, body)
        status, body = await call(http, d, "GET", f"{base}/abandonment?from=2027-01-15&to=2027-01-18", role="agent")
        assert status == 403, body
        status, body = await call(http, d, "GET", "/api/dialer/campaigns/nope/abandonment?from=1&to=2")
        assert (status, body["field"]) == (404, "name"), body
    db = ["--db", url]
    code = await asyncio.to_thread(
        main, ["dialer", *db, "campaign", "abandonment", "c1", "--from", "2027-01-15", "--to", "2027-01-18"]
    )
    out = capsys.readouterr().out
    assert code == (1 if want.hours_over_cap else 0)
    assert "cap 3.0% per 24h" in out and "2027-01-16" in out and f"hours over the cap: {want.hours_over_cap}" in out
    code = await asyncio.to_thread(
        main, ["dialer", *db, "campaign", "abandonment", "c1", "--from", "2027-01-15", "--to", "2027-01-18", "--json"]
    )
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(asdict(want)))
