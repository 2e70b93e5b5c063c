"""Every trace's ami.raw through codec + tracker, compared with expected.json (built from Asterisk's own
CDR/CEL/queue_log of the same run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctiserver.calls.export import calls_json
from ctiserver.calls.replay import track_files
from tests.conftest import SCENARIOS, TRACES

# expected.json roles come from channel names (caller-*/anonymous-* = caller, 100x/20xx = agent, Local/* =
# local) with per-scenario words ("customer (originated leg)", "agent (dialed by dialplan)"); ours come from
# how the leg was created. An agent endpoint that took the call over in a transfer is our "transfer_target".
ROLE_OF_EXPECTED = {
    "caller": {"caller"},
    "agent": {"agent", "transfer_target"},
    "local": {"local"},
    "customer": {"outbound"},
}
# legs we know more about than the channel name tells: (scenario, channel) → our exact role
ROLE_OVERRIDES = {("07-blind-transfer", "PJSIP/1002-0000000f"): {"transfer_target"}}


def _epoch(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


def _captures(folder: Path) -> list[Path]:
    files = [folder / "ami.raw"]
    if (folder / "ami-after.raw").exists():
        files.append(folder / "ami-after.raw")
    return files


def _close(a: float | None, b: float | None, tol: float = 1.0) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def _check_leg(scenario: str, got: dict[str, Any], exp: dict[str, Any]) -> None:
    where = f"{scenario} {exp['channel']}"
    assert got["channel"] == exp["channel"], where
    assert got["linkedid"] == exp["linkedid"], where
    first_word = exp["role"].split()[0]
    want_roles = ROLE_OVERRIDES.get((scenario, exp["channel"]), ROLE_OF_EXPECTED[first_word])
    assert got["role"] in want_roles, f"{where}: {got['role']} vs {exp['role']}"
    assert got["answered"] == exp["answered"], where
    assert got["hangup_cause"] == exp["hangup_cause"], where
    assert got["hangup_source"] == exp["hangup_source"], where
    assert got["dialstatus"] == exp["dialstatus"], where
    for key in ("start", "answer", "end"):
        assert _close(_epoch(got[key]), _epoch(exp[key])), f"{where} {key}: {got[key]} vs {exp[key]}"


def _check_queue(scenario: str, got: dict[str, Any] | None, exp: dict[str, Any] | None) -> None:
    if exp is None:
        assert got is None, scenario
        return
    assert got is not None, scenario
    assert got["queue"] == exp["queue"]
    assert got["caller_uniqueid"] == exp["caller_uniqueid"]
    assert got["enter_position"] == exp["enter_position"]
    assert got["outcome"] == exp["outcome"]
    assert abs(got["wait_seconds"] - exp["wait_seconds"]) <= 1.0, (got, exp)
    assert got.get("agent") == exp.get("agent")
    assert got.get("agent_uniqueid") == exp.get("agent_uniqueid")
    if "talk_seconds" in exp:
        assert abs(got["talk_seconds"] - exp["talk_seconds"]) <= 1.0
    if "position" in exp:
        assert got["position"] == exp["position"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_trace_matches_expected(scenario: str) -> None:
    folder = TRACES / scenario
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    tracker = track_files(_captures(folder))
    got = calls_json(tracker.all_calls())
    assert not tracker.calls, f"calls left open: {list(tracker.calls)}"
    assert not [k for k in tracker.anomalies if k.startswith("error:")], tracker.anomalies
    assert len(tracker.linkedid_changes) == len(expected.get("linkedid_changes") or [])
    by_id = {c["linkedid"]: c for c in got["calls"]}
    assert sorted(by_id) == sorted(c["linkedid"] for c in expected["calls"])
    for exp_call in expected["calls"]:
        call = by_id[exp_call["linkedid"]]
        legs = {leg["uniqueid"]: leg for leg in call["legs"]}
        assert sorted(legs) == sorted(leg["uniqueid"] for leg in exp_call["legs"]), scenario
        for exp_leg in exp_call["legs"]:
            _check_leg(scenario, legs[exp_leg["uniqueid"]], exp_leg)
        _check_queue(scenario, call["queue"], exp_call["queue"])


def test_cli_replay_calls_prints_expected_shape() -> None:
    import subprocess
    import sys

    folder = TRACES / "07-blind-transfer"
    r = subprocess.run(
        [sys.executable, "-m", "ctiserver", "replay", "--ami", str(folder / "ami.raw"), "--calls"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert doc["open_calls"] == 0
    [call] = doc["calls"]
    [exp] = expected["calls"]
    assert [leg["uniqueid"] for leg in call["legs"]] == [leg["uniqueid"] for leg in exp["legs"]]
    for got, want in zip(call["legs"], exp["legs"], strict=True):
        _check_leg("07-blind-transfer", got, want)
    _check_queue("07-blind-transfer", call["queue"], exp["queue"])
    assert call["transfers"][0]["kind"] == "blind" and call["transfers"][0]["target"] == "1002@from-agents"
