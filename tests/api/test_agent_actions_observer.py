"""Observer mode (app_queue, ``acd.observer: true``, no call control of ours) over HTTP: agents log in to app_queue
queues, pause with a reason, unpause and log out through ``/api/observer/agents/...`` and the generic
``/api/agents/...``; each action goes to the simulator's app_queue as AMI QueueAdd/QueuePause/QueueRemove and the
state the API reports is the one Asterisk's own AMI events gave back. Roles: an agent only itself; supervisors and
admins anyone; crm nobody."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.sim.simulator import Simulator
from tests.api.harness import Daemon, daemon

COMPONENTS = (
    "ctiserver.sim.component",
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.acd.component",
    "ctiserver.api.component",
)
EXTRA: dict[str, Any] = {
    "simulator": {"enabled": True},
    "acd": {
        "observer": True,
        "pause_reasons": ["lunch", "break", "missed", "unreachable"],
        "agents": [
            {"id": "1001", "device": "PJSIP/1001", "name": "Alice"},
            {"id": "1002", "device": "PJSIP/1002"},
        ],
    },
}


class Api:
    def __init__(self, d: Daemon, http: aiohttp.ClientSession) -> None:
        self.d, self.http = d, http

    async def call(self, method: str, path: str, role: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.d.url + path, headers=self.d.auth(role), json=body) as resp:
            return resp.status, await resp.json()

    async def state_of(self, agent: str, want: str, reason: str | None = None) -> dict[str, Any]:
        """Poll GET until the agent shows ``want`` (the AMI event may follow the action's answer)."""
        deadline = time.monotonic() + 20
        while True:
            status, body = await self.call("GET", f"/api/observer/agents/{agent}", "supervisor")
            assert status == 200, body
            if body["state"] == want and (reason is None or body["reason"] == reason):
                return dict(body)
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.05)


def _members(d: Daemon, queue: str) -> dict[str, bool]:
    """The simulator's app_queue: member interface -> paused."""
    q = d.ctx.require(Simulator).engine.queues.queues[queue]
    return {m.interface: m.paused for m in q.members}


async def test_observer_agent_actions_over_http(tmp_path: Path) -> None:
    async with daemon(tmp_path, COMPONENTS, **EXTRA) as d, aiohttp.ClientSession() as http:
        api = Api(d, http)
        status, agents = await api.call("GET", "/api/observer/agents", "supervisor")
        assert status == 200, agents
        assert [(a["agent"], a["state"], a["device"]) for a in agents] == [
            ("1001", "logged_out", "PJSIP/1001"),
            ("1002", "logged_out", "PJSIP/1002"),
        ]
        status, mine = await api.call("GET", "/api/observer/agents", "agent")
        assert [a["agent"] for a in mine] == ["1001"]

        # the agent logs itself in to app_queue's support queue
        status, body = await api.call("POST", "/api/observer/agents/1001/login", "agent", {"queues": ["support"]})
        assert status == 200, body
        assert isinstance(body["confirmed"], bool)
        got = await api.state_of("1001", "ready")
        assert got["queues"] == ["support"] and got["name"] == "Alice"
        assert _members(d, "support") == {"PJSIP/1001": False}

        # roles: an agent acts only on itself, crm never
        status, body = await api.call("POST", "/api/observer/agents/1002/login", "agent", {"queues": ["support"]})
        assert status == 403, body
        status, body = await api.call("POST", "/api/observer/agents/1001/pause", "crm", {"reason": "lunch"})
        assert status == 403, body
        status, body = await api.call("POST", "/api/agents/1002/ready", "agent", {})
        assert status == 403, body

        # pause with a reason through the generic endpoint (the agent page's), then unpause
        status, body = await api.call("POST", "/api/agents/1001/pause", "agent", {"reason": "lunch"})
        assert status == 200, body
        await api.state_of("1001", "not_ready", "lunch")
        assert _members(d, "support") == {"PJSIP/1001": True}
        status, body = await api.call("POST", "/api/agents/1001/pause", "agent", {"reason": "nap"})
        assert status == 422 and body["field"] == "body.reason", body
        status, body = await api.call("POST", "/api/agents/1001/pause", "agent", {})
        assert status == 422 and body["field"] == "body.reason", body
        status, body = await api.call("POST", "/api/agents/1001/ready", "supervisor", {})
        assert status == 200, body
        await api.state_of("1001", "ready")
        assert _members(d, "support") == {"PJSIP/1001": False}

        # already in the queue; wrap-up is app_queue's own; skills do not exist there
        status, body = await api.call("POST", "/api/observer/agents/1001/login", "agent", {"queues": ["support"]})
        assert status == 409 and body["code"] == "already_logged_in", body
        status, body = await api.call("POST", "/api/agents/1001/wrapup-end", "agent", {})
        assert status == 409, body
        status, body = await api.call("PUT", "/api/agents/1001/skills", "admin", {"skills": {"billing": 3}})
        assert status == 503, body

        # a supervisor logs the agent out; the agent logs back in from its page (the same queues again)
        status, body = await api.call("POST", "/api/observer/agents/1001/logout", "supervisor", {})
        assert status == 200, body
        await api.state_of("1001", "logged_out")
        assert _members(d, "support") == {}
        status, body = await api.call("POST", "/api/agents/1001/logout", "agent", {})
        assert status == 409 and body["code"] == "not_logged_in", body
        status, body = await api.call("POST", "/api/agents/1001/login", "agent", {})
        assert status == 200, body
        await api.state_of("1001", "ready")
        assert _members(d, "support") == {"PJSIP/1001": False}

        # a supervisor logs 1002 in paused (two queues), a queue app_queue does not know is refused
        status, body = await api.call(
            "POST", "/api/observer/agents/1002/login", "supervisor", {"queues": ["support", "load"], "reason": "break"}
        )
        assert status == 200, body
        got = await api.state_of("1002", "not_ready", "break")
        assert got["queues"] == ["load", "support"]
        status, body = await api.call("POST", "/api/observer/agents/1002/login", "admin", {"queues": ["nowhere"]})
        assert status == 409 and body["code"] == "pbx_refused", body
        status, body = await api.call("POST", "/api/observer/agents/9999/login", "admin", {"queues": ["support"]})
        assert status == 404, body
        status, body = await api.call("POST", "/api/observer/agents/1002/login", "admin", {"queues": ["a b"]})
        assert status == 422 and body["field"].startswith("body.queues"), body

        status, listed = await api.call("GET", "/api/agents", "supervisor")  # the generic list serves them too
        assert {a["agent"]: a["state"] for a in listed} == {"1001": "ready", "1002": "not_ready"}
