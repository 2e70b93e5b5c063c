"""``ctiserver privacy erase`` against a real SQLite database and a real recording file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ctiserver.cli import main
from ctiserver.recording.meta import RecordingMeta, RecState
from ctiserver.recording.sql import SqlRecordingStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.models import CallRow


def test_erase_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    audio = tmp_path / "c1-1.wav"
    audio.write_bytes(b"RIFF")

    async def seed() -> None:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        async with sessions() as s, s.begin():
            s.add(
                CallRow(call_id="c1", state="ended", started=1.0, caller_num="+48221234567", caller_key="+48221234567")
            )
        await SqlRecordingStore(sessions).save(
            RecordingMeta("c1-1", "c1", "q", "1001", "bridge:b", str(audio), "wav", 1.0, RecState.DONE)
        )
        await engine.dispose()

    async def row() -> CallRow | None:
        engine = make_engine(url)
        try:
            async with session_factory(engine)() as s:
                return await s.get(CallRow, "c1")
        finally:
            await engine.dispose()

    asyncio.run(seed())
    cfg = tmp_path / "ctiserver.yaml"
    cfg.write_text(f"database:\n  url: '{url}'\n  spool_dir: '{tmp_path / 'spool'}'\n", encoding="utf-8")
    assert main(["privacy", "erase", "anonymous", "-c", str(cfg)]) == 2
    assert "not a phone number" in capsys.readouterr().err
    assert main(["privacy", "erase", "+48 22 123 45 67", "-c", str(cfg)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out["number"], out["calls"], out["recordings"], out["do_not_call"]) == ("+48221234567", 1, 1, True)
    stored = asyncio.run(row())
    assert stored is not None and stored.anonymised and stored.caller_num == "" and not audio.exists()
