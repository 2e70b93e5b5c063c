"""``ctiserver db``, ``ctiserver kpi report`` and ``ctiserver erlang --from-history`` as real processes over a
database filled by the tracker from the load capture."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ctiserver.calls.replay import track_files
from ctiserver.cli import main
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.repository import CallRepository
from tests.conftest import TRACES


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in-process (same argv parsing and output as the real command, without a fresh
    interpreter per call; ``test_real_process_kpi_report`` runs the real process)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as exc:  # argparse errors
            rc = int(exc.code or 0)
    return subprocess.CompletedProcess(list(args), rc, out.getvalue(), err.getvalue())


def test_real_process_kpi_report(loaded_db: str) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ctiserver",
            "kpi",
            "report",
            "--db",
            loaded_db,
            "--from",
            "2026-11-22",
            "--to",
            "2026-11-23",
            "--interval",
            "all",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"][0]["offered"] == 240


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('kpi') / 'cti.sqlite'}"
    r = cli("db", "upgrade", "--db", url)
    assert r.returncode == 0, r.stderr
    assert "core_0007" in r.stdout
    tracker = track_files([TRACES / "13-load-queue" / "ami.raw"])
    facts = [{"kind": "call", "data": c.snapshot()} for c in tracker.all_calls()]

    async def write() -> None:
        engine = make_engine(url)
        try:
            await CallRepository(session_factory(engine)).apply(facts)
        finally:
            await engine.dispose()

    asyncio.run(write())
    return url


def test_report_json_by_interval(loaded_db: str) -> None:
    r = cli(
        "kpi",
        "report",
        "--db",
        loaded_db,
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-23",
        "--interval",
        "15m",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    rows: list[dict[str, Any]] = json.loads(r.stdout)["rows"]
    assert {row["queue"] for row in rows} == {"load"}
    assert sum(row["offered"] for row in rows) == 240
    assert sum(row["answered"] for row in rows) == 240
    assert all(row["service_level"] == 1.0 for row in rows)
    summary = json.loads(r.stdout)["summary"]
    assert summary["calls"] == 240 and summary["inbound"] == 240 and summary["blocked_rate"] == 0
    assert summary["calls_per_agent_per_day"] == pytest.approx(10.0)  # 240 calls over 24 agents, one day
    whole = json.loads(
        cli(
            "kpi",
            "report",
            "--db",
            loaded_db,
            "--from",
            "2026-11-22",
            "--to",
            "2026-11-23",
            "--interval",
            "all",
            "--format",
            "json",
        ).stdout
    )["rows"]
    assert len(whole) == 1 and whole[0]["offered"] == 240
    assert whole[0]["aht"] == pytest.approx(4.5333, abs=0.01)


def test_report_csv_table_agent_and_progress(loaded_db: str) -> None:
    r = cli(
        "kpi",
        "report",
        "--db",
        loaded_db,
        "--from",
        "2026-11-15",
        "--to",
        "2026-11-25",
        "--queue",
        "load",
        "--interval",
        "day",
        "--format",
        "csv",
    )
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["queue"], x["interval"], x["offered"]) for x in rows] == [("load", "2026-11-22 00:00", "240")]
    assert "10/10 days" in r.stderr  # progress bar on a 10-day range
    t = cli("kpi", "report", "--db", loaded_db, "--from", "2026-11-22", "--to", "2026-11-23")
    assert t.returncode == 0 and "load" in t.stdout and "100.0%" in t.stdout
    assert "calls 240 (inbound 240)" in t.stdout and "blocked 0.0%" in t.stdout
    a = cli(
        "kpi",
        "report",
        "--db",
        loaded_db,
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-23",
        "--by",
        "agent",
        "--format",
        "json",
    )
    agents = json.loads(a.stdout)["rows"]
    assert len(agents) == 24 and sum(x["handled"] for x in agents) == 240


def test_report_bad_input_is_a_clear_error(loaded_db: str, tmp_path: Path) -> None:
    r = cli("kpi", "report", "--db", loaded_db, "--from", "2026-11-23", "--to", "2026-11-22")
    assert r.returncode == 2 and "--to must be after --from" in r.stderr
    r = cli("kpi", "report", "--db", loaded_db, "--from", "yesterday", "--to", "2026-11-22")
    assert r.returncode == 2 and "not a date" in r.stderr
    r = cli(
        "kpi",
        "report",
        "--db",
        "postgresql+asyncpg://u@127.0.0.1:1/x",
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-23",
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr and "kpi report" in r.stderr


def test_erlang_from_history(loaded_db: str) -> None:
    r = cli(
        "erlang",
        "--from-history",
        "--day",
        "2026-11-22",
        "--db",
        loaded_db,
        "--target",
        "80/20",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    [iv] = doc["intervals"]  # the capture lasted about a minute: one 30-min interval
    assert iv["interval"] == "17:30" and iv["calls"] == 240
    assert iv["aht"] == pytest.approx(4.5, abs=0.1)
    # 240 calls × 4.53 s in 1800 s = A ≈ 0.6 Erlang; one agent: C = A = 0.6,
    # SL = 1 − 0.6·exp(−(1 − 0.6)·20 / 4.53) ≈ 0.897 ≥ 0.8
    assert iv["agents"] == 1
    assert iv["service_level"] == pytest.approx(
        1 - 0.6044 * 2.718281828 ** (-(1 - 0.6044) * 20 / 4.533), abs=0.002
    )


def _json_report(cfg: Path, db: str, start: str, end: str) -> Any:
    """``ctiserver kpi report`` over the whole period, as JSON, with the configuration file ``cfg``."""
    r = cli("kpi", "report", "--config", str(cfg), "--db", db, "--from", start, "--to", end, "--interval", "all",
            "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_report_uses_each_queues_own_sl_settings(loaded_db: str, tmp_path: Path) -> None:
    cfg = tmp_path / "ctiserver.yaml"
    cfg.write_text("kpi:\n  sl_seconds: 20\n  queues:\n    load:\n      sl_seconds: 1\n")
    [row] = _json_report(cfg, loaded_db, "2026-11-22", "2026-11-23")["rows"]
    assert row["sl_seconds"] == 1
    from ctiserver.kpi.formulas import SlPolicy
    from ctiserver.kpi.replay import kpis_by_queue

    calls = track_files([TRACES / "13-load-queue" / "ami.raw"]).all_calls()
    want = kpis_by_queue(calls, SlPolicy(seconds=1))["load"]["service_level"]
    assert 0 < want < 1 and row["service_level"] == pytest.approx(want)


def test_summary_reads_old_rows_in_the_configured_region(tmp_path: Path) -> None:
    """Rows written before ``calls.caller_key`` are normalised at report time in ``default_region``: a Berlin
    caller in national form and in E.164 is one caller (a repeat) in DE, two callers in the US."""
    from sqlalchemy import update

    from ctiserver.store.models import CallRow
    from tests.kpi.test_summary import call

    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    assert cli("db", "upgrade", "--db", url).returncode == 0
    t0 = 1_736_500_000.0  # 2025-01-10: every FCR window long closed

    async def write() -> None:
        engine = make_engine(url)
        try:
            calls = [call("b1", t0, "030 1234567"), call("b2", t0 + 3600, "+49 30 1234567")]
            await CallRepository(session_factory(engine), region="DE").apply(
                [{"kind": "call", "data": c} for c in calls]
            )
            async with session_factory(engine)() as s, s.begin():  # as written before core_0003
                await s.execute(update(CallRow).values(caller_key=None))
        finally:
            await engine.dispose()

    asyncio.run(write())
    summaries = {}
    for region in ("DE", "US"):
        cfg = tmp_path / f"{region}.yaml"
        cfg.write_text(f"default_region: {region}\n")
        summaries[region] = _json_report(cfg, url, "2025-01-10", "2025-01-11")["summary"]
    assert summaries["DE"]["fcr_repeat_contacts"] == 2 and summaries["DE"]["fcr_repeat"] == 0.5
    assert summaries["US"]["fcr_repeat_contacts"] == 2 and summaries["US"]["fcr_repeat"] == 1.0
