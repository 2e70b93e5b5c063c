from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from ctiserver.kpi.erlang import (
    ErlangError,
    agents_for,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    traffic_of,
)


def _naive_erlang_c(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def test_published_example_14_agents() -> None:
    s = agents_for(100, 1800, 180, 0.80, 20)
    assert s.agents == 14
    assert round(s.service_level * 100, 1) == 88.8
    assert s.asa == pytest.approx(7.8, abs=0.05)
    assert round(s.occupancy * 100) == 71


def test_published_example_13_agents_misses_target() -> None:
    s = erlang_c_metrics(13, traffic_of(100, 1800, 180), 180, 20)
    assert round(s.service_level * 100, 1) == 79.6


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (5, 3.2), (14, 10.0), (30, 25.5)])
def test_recursion_matches_closed_form(n: int, a: float) -> None:
    assert erlang_c(n, a) == pytest.approx(_naive_erlang_c(n, a), rel=1e-10)


def test_stable_beyond_1000_agents() -> None:
    # 2,000 Erlangs: the closed form overflows floats, the recursion does not
    with pytest.raises(OverflowError):
        _naive_erlang_c(2100, 2000.0)
    s = agents_for(20_000, 1800, 180, 0.8, 20)
    assert 2000 < s.agents < 2100
    assert 0.8 <= s.service_level < 0.9
    assert 0 < erlang_b(5000, 4900.0) < 1


def test_shrinkage_and_targets() -> None:
    s = agents_for(100, 1800, 180, 0.8, 20, shrinkage=0.3)
    assert (s.agents, s.scheduled) == (14, 20)
    assert agents_for(100, 1800, 180, 0.8, 20, max_asa=3).asa <= 3
    assert agents_for(100, 1800, 180, 0.8, 20, max_occupancy=0.6).occupancy <= 0.6
    with pytest.raises(ErlangError):
        agents_for(100, 1800, 180, 1.5, 20)
    with pytest.raises(ErlangError):
        agents_for(-1, 1800, 180, 0.8, 20)


def test_erlang_a_tends_to_erlang_c_with_infinite_patience() -> None:
    a = erlang_a_metrics(14, 100 / 1800, 180, 1e9, 20)
    c = erlang_c_metrics(14, 10.0, 180, 20)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.asa == pytest.approx(c.asa, rel=1e-3)
    assert a.abandon is not None and a.abandon < 1e-5


def test_erlang_a_impatient_callers_abandon() -> None:
    patient = erlang_a_metrics(11, 100 / 1800, 180, 600, 20)
    impatient = erlang_a_metrics(11, 100 / 1800, 180, 30, 20)
    assert patient.abandon is not None and impatient.abandon is not None
    assert impatient.abandon > patient.abandon > 0
    # with abandonment, fewer agents reach the same SL than Erlang C says
    assert agents_for(100, 1800, 180, 0.8, 20, patience=120).agents <= 14


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctiserver", "erlang", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_the_example() -> None:
    r = _cli("--calls", "100", "--interval", "1800", "--aht", "180", "--target", "80/20", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["agents"] == 14 and out["service_level"] == pytest.approx(0.888, abs=0.0005)
    r = _cli("--calls", "100", "--aht", "180", "--target", "80/20", "--patience", "120", "--shrinkage", "0.3")
    assert r.returncode == 0, r.stderr
    assert "abandon" in r.stdout and "scheduled" in r.stdout


def test_cli_bad_target_is_a_clear_error() -> None:
    r = _cli("--calls", "100", "--aht", "180", "--target", "80%")
    assert r.returncode == 2
    assert "--target must look like 80/20" in r.stderr


def test_erlang_a_can_need_fewer_agents_than_the_offered_load_and_is_minimal() -> None:
    # 100 Erlangs of impatient callers (mean patience 60 s): abandonment sheds load
    s = agents_for(1000, 1800, 180, 0.8, 20, patience=60)
    assert s.agents < 100 and s.service_level >= 0.8
    assert s.abandon is not None and s.abandon > 0.05
    assert erlang_a_metrics(s.agents - 1, 1000 / 1800, 180, 60, 20).service_level < 0.8
