"""Queue KPIs of replayed captures agree with what Asterisk's own queue_log of the same run says."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.calls.replay import track_files
from ctiserver.kpi.replay import kpis_by_queue
from tests.conftest import TRACES


def queue_log_kpis(path: Path, sl_seconds: float = 20.0) -> dict[str, dict[str, float]]:
    """offered/answered/abandoned/SL/ASA/AHT straight from queue_log (epoch|callid|queue|agent|event|...)."""
    out: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        parts = line.split("|")
        if len(parts) < 5:
            continue
        queue, event, data = parts[2], parts[4], parts[5:]
        if queue in ("NONE", ""):
            continue
        q = out.setdefault(
            queue,
            {
                "offered": 0,
                "answered": 0,
                "abandoned": 0,
                "in_sl": 0,
                "wait": 0.0,
                "talk": 0.0,
                "completed": 0,
            },
        )
        if event == "ENTERQUEUE":
            q["offered"] += 1
        elif event == "CONNECT":
            q["answered"] += 1
            q["wait"] += float(data[0])
            q["in_sl"] += float(data[0]) <= sl_seconds
        elif event == "ABANDON":
            q["abandoned"] += 1
        elif event in ("COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
            q["completed"] += 1
            q["talk"] += float(data[1] if event.startswith("COMPLETE") else data[-2])  # calltime
    return out


QUEUE_SCENARIOS = [
    s
    for s in (
        "04-queue-answered",
        "05-queue-abandoned",
        "07-blind-transfer",
        "11-mixmonitor-mute",
        "12-asterisk-restart",
        "13-load-queue",
    )
    if (TRACES / s / "queue_log").exists()
]


@pytest.mark.parametrize("scenario", QUEUE_SCENARIOS)
def test_kpis_agree_with_queue_log(scenario: str) -> None:
    folder = TRACES / scenario
    captures = [
        folder / "ami.raw",
        *([folder / "ami-after.raw"] if (folder / "ami-after.raw").exists() else []),
    ]
    ours = kpis_by_queue(track_files(captures).all_calls())
    theirs = queue_log_kpis(folder / "queue_log")
    assert sorted(ours) == sorted(theirs)
    for queue, q in theirs.items():
        k = ours[queue]
        assert k["offered"] == q["offered"]
        assert k["answered"] == q["answered"]
        assert k["abandoned"] == q["abandoned"]
        assert k["service_level"] == pytest.approx(q["in_sl"] / q["offered"])
        if q["answered"]:
            # queue_log holds whole seconds (truncated); we measure from event timestamps
            assert abs(k["asa"] - q["wait"] / q["answered"]) <= 1.0
        if q["completed"]:
            assert abs(k["aht"] - q["talk"] / q["completed"]) <= 1.0


def test_load_capture_numbers() -> None:
    k = kpis_by_queue(track_files([TRACES / "13-load-queue" / "ami.raw"]).all_calls())["load"]
    assert (k["offered"], k["answered"], k["abandoned"]) == (240, 240, 0)
    assert k["service_level"] == 1.0


def test_cli_replay_kpi_agrees_with_queue_log() -> None:
    import json
    import subprocess
    import sys

    folder = TRACES / "13-load-queue"
    r = subprocess.run(
        [sys.executable, "-m", "ctiserver", "replay", "--ami", str(folder / "ami.raw"), "--kpi"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)["queues"]["load"]
    q = queue_log_kpis(folder / "queue_log")["load"]
    assert (k["offered"], k["answered"], k["abandoned"]) == (q["offered"], q["answered"], q["abandoned"])
    assert k["service_level"] == pytest.approx(q["in_sl"] / q["offered"])
    assert abs(k["asa"] - q["wait"] / q["answered"]) <= 1.0
    assert abs(k["aht"] - q["talk"] / q["completed"]) <= 1.0
