"""Agent state persisted in SQLite through the real migrations survives a restart of the ACD."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.sql import SqlAgentStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from tests.acd.harness import Harness
from tests.acd.test_service import config


async def test_agent_states_and_skills_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    try:
        store = SqlAgentStore(session_factory(engine))
        async with Harness(config(), store=store) as h:
            await h.acd.pause("a1", "lunch")
            await h.acd.set_skills("a2", {"billing": 9, "tech": 10})
            await h.acd.logout("a2")
        async with Harness(config(), store=store) as h2:
            a1, a2 = h2.acd.agents.get("a1"), h2.acd.agents.get("a2")
            assert (a1.state, a1.status.reason) == (AgentState.NOT_READY, "lunch")
            assert a2.state is AgentState.LOGGED_OUT and a2.skills == {"billing": 9, "tech": 10}
        events = await store.events("a1")
        assert [(s, r) for s, r, _ in events] == [("ready", None), ("not_ready", "lunch")]
    finally:
        await engine.dispose()
