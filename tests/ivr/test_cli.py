"""``ctiserver ivr check|simulate|graph`` run as the admin would (in-process, through the CLI parser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctiserver.cli import main
from tests.ivr.test_validation import BROKEN
from tests.ivr.util import EXAMPLES


def test_check_examples_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "check", str(EXAMPLES)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "5 valid script(s), 0 error(s)" in err


def test_check_broken_exits_nonzero_with_located_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "check", str(BROKEN / "graph.yaml"), str(BROKEN / "fields.yaml")]) == 1
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert f"{BROKEN / 'graph.yaml'}:17:12: nodes.m: unknown node 'nowhere'" in lines
    assert f"{BROKEN / 'fields.yaml'}:7:5: nodes.hello.nxt: unknown field" in lines


def test_check_missing_path_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ivr", "check", str(tmp_path / "nope.yaml")]) == 1


def test_simulate_after_hours_callback(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "ivr",
            "simulate",
            str(EXAMPLES / "main-en.yaml"),
            "--caller",
            "+380441234567",
            "--dtmf",
            "1",
            "--at",
            "2026-12-31T23:30+02:00",
        ]
    )
    out, _ = capsys.readouterr()
    assert rc == 0
    assert "-> closed" in out and "call-back requested: +380441234567 (queue support)" in out
    assert out.rstrip().endswith("outcome: callback")


def test_simulate_vip_contact_and_account_self_service(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("'+380441234567': {id: c-7, name: Olena, vip: true}\n")
    rc = main(
        [
            "ivr",
            "simulate",
            str(EXAMPLES / "main-en.yaml"),
            "--caller",
            "+380441234567",
            "--dtmf",
            "2,23456789#,2",
            "--at",
            "2026-12-30T10:30+02:00",
            "--contact-file",
            str(contacts),
            "--http-reply",
            json.dumps({"balance": 42.5, "status": "active"}),
        ]
    )
    out, _ = capsys.readouterr()
    assert rc == 0
    assert "segment = vip" in out and "customer = Olena" in out and "contact: c-7 Olena" in out
    assert "account:ask_account" in out and "digits=23456789" in out and "balance = 42.5" in out
    assert "number:42.5" in out and "ends: hangup" in out and "outcome: self_service" in out


def test_simulate_sales_queue_on_holiday_is_closed(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["ivr", "simulate", str(EXAMPLES / "main-en.yaml"), "--dtmf", "2", "--at", "2026-12-25T11:00"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "-> holiday" in out and "holiday_notice" in out


def test_simulate_queue_hand_over(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["ivr", "simulate", str(EXAMPLES / "main-ru.yaml"), "--dtmf", "1", "--at", "2026-12-29T11:00"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "queue hand-over: support (skills russian>=1; priority queue default)" in out
    assert "ends: queue support" in out


def test_simulate_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "simulate", str(EXAMPLES / "main-en.yaml"), "--at", "yesterday"]) == 2
    assert main(["ivr", "simulate", str(BROKEN / "graph.yaml")]) == 1
    _, err = capsys.readouterr()
    assert "not an ISO 8601" in err and "graph.yaml:4:3:" in err


def test_graph_is_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "graph", str(EXAMPLES / "main-en.yaml")]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n_main_menu -- "press 1" --> n_sales_route' in lines
    assert '  n_vip_check -- "contact is not none and contact.vip" --> n_vip' in lines
    assert '  n_hours -- "holiday" --> n_holiday_notice' in lines
    assert '  n_goodbye_served(["goodbye_served<br/>hangup: Served in IVR"])' in lines


def test_check_takes_folders_from_the_configuration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "en").mkdir(parents=True)
    config = tmp_path / "ctiserver.yaml"
    config.write_text(f"ivr:\n  scripts_dir: {BROKEN}\n  sound_dirs: [{sounds}]\n")
    assert main(["ivr", "check", "--config", str(config), str(BROKEN / "sounds.yaml")]) == 0
    out, _ = capsys.readouterr()
    assert "warning: nodes.a: sound file 'sound:present' not found" in out  # sound_dirs came from the config
    assert main(["ivr", "check", "--config", str(config)]) == 1  # scripts_dir came from the config
    config.write_text("ivr:\n  scripts_dirr: x\n")
    assert main(["ivr", "check", "--config", str(config)]) == 2
    _, err = capsys.readouterr()
    assert "scripts_dirr" in err


def test_check_warns_about_queues_the_acd_does_not_have(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "ctiserver.yaml"
    config.write_text("acd:\n  queues:\n    - {name: support}\n")
    assert main(["ivr", "check", "--config", str(config), str(EXAMPLES)]) == 0  # warnings only
    out, _ = capsys.readouterr()
    warned = [line for line in out.splitlines() if "is not configured" in line]
    assert len(warned) == 2 and all(
        "queue 'sales' is not configured (acd.queues: support)" in w for w in warned
    )
    assert all(":warning:" not in w and ": warning: " in w for w in warned)
    assert any(w.startswith(f"{EXAMPLES / 'main-en.yaml'}:") for w in warned)
