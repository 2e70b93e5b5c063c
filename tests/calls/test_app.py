"""The composition root with the simulator: sim → store → events → pbx → calls → kpi, over real sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from ctiserver.app import running
from ctiserver.calls.service import CallService
from ctiserver.config import Config, DatabaseConfig, SimulatorConfig
from ctiserver.kpi.live import LiveKpis
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.sim.simulator import Simulator
from ctiserver.store.database import Database
from ctiserver.store.models import CallRow

COMPONENTS = (
    "ctiserver.sim.component",
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.calls.component",
    "ctiserver.kpi.component",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    return str(request.getfixturevalue("pg_database"))


async def test_daemon_tracks_a_queue_call_into_live_kpis_and_the_database(
    tmp_path: Path, db_url: str
) -> None:
    config = Config(
        simulator=SimulatorConfig(enabled=True),
        database=DatabaseConfig(url=SecretStr(db_url), spool_dir=str(tmp_path / "spool")),
    )
    async with running(config, components=COMPONENTS) as ctx:
        sim, ami = ctx.require(Simulator), ctx.require(AmiClient)
        service, live, db = ctx.require(CallService), ctx.require(LiveKpis), ctx.require(Database)
        async with asyncio.timeout(60):
            while service.resyncs < 1:  # noqa: ASYNC110 - state changed by the calls component
                await asyncio.sleep(0.02)
            sim.agent("1002", answer_after=0.2)
            await ami.action(
                "QueueAdd", {"Queue": "support", "Interface": "PJSIP/1002", "MemberName": "Agent 1002"}
            )
            call = sim.place_call(from_number="5550111", to="200", hangup_after=1.5)
            await call.done.wait()
            while live.queue("support", "15m").offered < 1 or not service.tracker.finished:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            await service.flush()
            await db.writer.drain()
        k = live.queue("support", "15m")
        assert (k.offered, k.answered) == (1, 1)
        [done] = service.tracker.finished.values()
        async with db.sessions() as s:
            row = await s.get(CallRow, done.call_id)
        assert row is not None and row.caller_num == "5550111" and row.state == "ended"
