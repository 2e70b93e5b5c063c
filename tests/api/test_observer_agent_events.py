"""Observer mode (app_queue): each fact about an agent and a call is published once, under the agent's configured
id (``acd.agents[].id`` by its device), whoever saw it — the call tracker (calls, queue segments, KPIs) and the
queue observer (agent states) follow the same AMI events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.events.log import EventLog
from tests.api.app_queue import COMPONENTS, answered_call
from tests.api.harness import daemon
from tests.servers.redis import wait_for


async def test_one_answer_per_agent_connect_under_the_agent_id(tmp_path: Path) -> None:
    extra: dict[str, Any] = {
        "simulator": {"enabled": True},
        "acd": {
            "observer": True,
            "agents": [{"id": "1001", "device": "PJSIP/1001", "name": "Alice Smith"}],
        },
    }
    async with daemon(tmp_path, COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=1.0)
        log = d.ctx.require(EventLog)
        await call.done.wait()
        await wait_for(lambda: any(e.type == "call.ended" for e in log._ring))
        events = [e for e in log._ring if e.subject == call_id and e.type.startswith("agent.")]
        by_type = {t: [dict(e.data) for e in events if e.type == t] for t in {e.type for e in events}}
        assert sorted(by_type) == ["agent.answered", "agent.offered", "agent.ringing"]
        assert all(len(v) == 1 for v in by_type.values()), by_type  # one of each, not one per publisher
        assert {v[0]["agent"] for v in by_type.values()} == {"1001"}  # not MemberName "Alice Smith"
        answered = by_type["agent.answered"][0]
        assert answered["caller_number"] == "5550123" and answered["agent_channel"].startswith("PJSIP/1001-")
        assert answered["wait_seconds"] > 0.1 and answered["leg"]
        async with http.get(d.url + f"/api/calls/{call_id}", headers=d.auth("supervisor")) as resp:
            record = await resp.json()
        assert [q["agent"] for q in record["queues"]] == ["1001"], record  # KPIs count the agent's id
