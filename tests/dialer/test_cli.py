"""``ctiserver dialer ...`` against a SQLite database: campaign, CSV import with a rejects report, DNC."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ctiserver.cli import main

CSV = """Ref,Phone,Name,City,Plan
1,(415) 555-2671,Ann,SF,gold
2,not a number,Bob,LA,basic
3,+44 20 7946 0958,Cleo,London,gold
4,(415) 555-2671,Dup,SF,x
5,,Empty,NY,y
6,+33 1 23,Short,Paris,z
"""


def test_campaign_import_dnc_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite'}"]
    (tmp_path / "c.csv").write_text(CSV, encoding="utf-8")
    assert main(["dialer", *db, "campaign", "create", "spring", "--mode", "predictive"]) == 0
    assert main(["dialer", *db, "campaign", "create", "spring"]) == 2  # exists
    rc = main(
        [
            "dialer",
            *db,
            "import",
            str(tmp_path / "c.csv"),
            "--campaign",
            "spring",
            "--map",
            "number=Phone,name=Name,id=Ref",
            "--rejects",
            str(tmp_path / "bad.csv"),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "2 imported, 3 rejected, 1 duplicate" in out
    rows = list(csv.DictReader((tmp_path / "bad.csv").open(encoding="utf-8")))
    assert [r["line"] for r in rows] == ["3", "6", "7"]
    assert "no digits" in rows[0]["reason"] and "empty" in rows[1]["reason"]
    assert main(["dialer", *db, "dnc", "add", "+1 415 555 2671", "--campaign", "spring"]) == 0
    capsys.readouterr()
    assert main(["dialer", *db, "dnc", "list", "--campaign", "spring"]) == 0
    assert capsys.readouterr().out.split() == ["+14155552671"]
    # a registry extract: a header, quoted numbers, a blank line, a bad row — reported by line, the rest imported
    (tmp_path / "dnc.csv").write_text('phone,source\n"+1 212 555 0100",ftc\n\n+1 415 555 2671\n12ab\n,x\n')
    assert main(["dialer", *db, "dnc", "import", str(tmp_path / "dnc.csv"), "--campaign", "spring"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 added (1 already listed), 3 rejected"), out
    assert "line 1: 'phone'" in out and "line 5: '12ab'" in out and "line 6: ''" in out, out
    assert main(["dialer", *db, "campaign", "start", "spring"]) == 0
    assert main(["dialer", *db, "campaign", "start", "spring"]) == 2  # running -> running is illegal
    capsys.readouterr()
    assert main(["dialer", *db, "campaign", "stats", "spring"]) == 0
    out = capsys.readouterr().out
    assert '"state": "running"' in out and '"pending": 2' in out and '"attempts": 0' in out
    assert main(["dialer", *db, "campaign", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[-1].strip() == "2 contacts"
    assert main(["dialer", *db, "import", str(tmp_path / "c.csv"), "--campaign", "nope", "--quiet"]) == 2
    assert "no campaign 'nope'" in capsys.readouterr().err
    assert (
        main(
            [
                "dialer",
                *db,
                "import",
                str(tmp_path / "c.csv"),
                "--campaign",
                "spring",
                "--quiet",
                "--map",
                "number=Telefon",
            ]
        )
        == 2
    )  # no such column: a clear error, nothing imported
    assert "no column 'Telefon'" in capsys.readouterr().err
