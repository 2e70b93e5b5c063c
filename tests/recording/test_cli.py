"""``ctiserver recording purge`` / ``show`` against a real SQLite database and real files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ctiserver.cli import main
from ctiserver.recording.meta import RecordingMeta, RecState
from ctiserver.recording.purge import DAY
from ctiserver.recording.sql import SqlRecordingStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory

NOW = 1_800_000_000.0


def _seed(url: str, tmp: Path) -> dict[str, Path]:
    files = {}

    async def go() -> None:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        store = SqlRecordingStore(session_factory(engine))
        for name, queue, age in (("old-1", "sales", 40), ("new-1", "sales", 2), ("vip-1", "vip", 40)):
            path = tmp / "rec" / f"{name}.wav"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"RIFF....WAVE")
            files[name] = path
            await store.save(
                RecordingMeta(
                    name,
                    name[:-2],
                    queue,
                    "a1",
                    "bridge:b",
                    str(path),
                    "wav",
                    NOW - age * DAY,
                    RecState.DONE,
                    size=12,
                )
            )
        await engine.dispose()

    asyncio.run(go())
    return files


def test_purge_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    files = _seed(url, tmp_path)
    cfg = tmp_path / "ctiserver.yaml"
    cfg.write_text(
        f"database:\n  url: '{url}'\n  spool_dir: '{tmp_path / 'spool'}'\n"
        "recording:\n  retention_days: 30\n  queues:\n    vip: {retention_days: 365}\n",
        encoding="utf-8",
    )
    assert main(["recording", "purge", "--config", str(cfg), "--now", str(NOW), "--dry-run"]) == 0
    assert "would remove old-1" in capsys.readouterr().out and files["old-1"].exists()
    assert main(["recording", "purge", "--config", str(cfg), "--now", str(NOW)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["removed old-1"]
    assert not files["old-1"].exists() and files["new-1"].exists() and files["vip-1"].exists()
    assert main(["recording", "show", "old", "--config", str(cfg)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["state"] == "purged" and row["name"] == "old-1"
    assert main(["recording", "show", "nope", "--config", str(cfg)]) == 1


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("recording:\n  retention_days: -1\n", encoding="utf-8")
    assert main(["recording", "purge", "--config", str(cfg)]) == 2
    assert "retention_days" in capsys.readouterr().err
