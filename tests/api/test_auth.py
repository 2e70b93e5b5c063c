"""Every endpoint refuses a missing token (401) and a token of a role it does not allow (403); failed
authentications are rate-limited; tokens are stored hashed."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from ctiserver.api.auth import Role
from ctiserver.api.handlers import ROUTER
from tests.api.harness import daemon

ROLE_TOKEN = {
    Role.ADMIN: "admin",
    Role.SUPERVISOR: "supervisor",
    Role.CRM: "crm",
    Role.AGENT: "agent",
    Role.MONITOR: "monitor",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


async def test_every_endpoint_refuses_missing_bad_and_wrong_role_tokens(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        assert len(ROUTER.endpoints) >= 40
        for ep in ROUTER.endpoints:
            url = d.url + _concrete(ep.path)
            async with http.request(ep.method, url) as resp:
                assert resp.status == 401, (ep.method, ep.path)
                body = await resp.json()
                assert body["code"] == "unauthorized"
            for role, name in ROLE_TOKEN.items():
                if role in ep.roles:
                    continue
                async with http.request(ep.method, url, headers=d.auth(name), json={}) as resp:
                    assert resp.status == 403, (ep.method, ep.path, role)
                    assert (await resp.json())["code"] == "forbidden"
        async with http.get(d.url + "/api/recordings/r1", headers=d.auth("agent")) as resp:
            assert resp.status == 403  # recordings: supervisors/admins unless auth.agent_recordings
        ws_url = d.url.replace("http", "ws") + "/api/ws"
        try:
            async with http.ws_connect(ws_url):
                raise AssertionError("a WebSocket without a token must be refused")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 401


async def test_failed_authentications_are_rate_limited(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        statuses = []
        for i in range(12):
            headers = {"Authorization": f"Bearer cti_nope_{i}"}
            async with http.get(d.url + "/api/calls", headers=headers) as resp:
                statuses.append(resp.status)
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429, 429]
        async with http.get(d.url + "/api/contacts", headers=d.auth("admin")) as resp:
            assert resp.status == 429  # even a good token waits: the address is throttled
            assert int(resp.headers["Retry-After"]) > 0


async def test_tokens_are_stored_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        async with http.post(
            d.url + "/api/tokens", headers=d.auth("admin"), json={"role": "agent", "agent": "1003"}
        ) as resp:
            assert resp.status == 201
            created = await resp.json()
        token = created["token"]
        secret = token.split("_", 2)[2]
        records = await d.api.auth.store.list()
        assert all(secret not in repr(r) for r in records)
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(d.url + "/api/contacts", headers=headers) as resp:
            assert resp.status == 200
        async with http.post(d.url + "/api/tokens", headers=d.auth("admin"), json={"role": "agent"}) as resp:
            assert resp.status == 422 and (await resp.json())["field"] == "body.agent"
        async with http.delete(d.url + f"/api/tokens/{created['id']}", headers=d.auth("admin")) as resp:
            assert resp.status == 204
        async with http.get(d.url + "/api/contacts", headers=headers) as resp:
            assert resp.status == 401


async def test_health_metrics_and_openapi_need_a_token(tmp_path: Path) -> None:
    """Only the console's static files are served without a token. ``/metrics`` (queue and campaign names, the
    day's figures) takes a monitor, supervisor or admin token; ``/health`` any token; the OpenAPI document an API
    role's. A ``monitor`` token (Prometheus, probes) reaches nothing else: no API route, no events."""
    async with (
        daemon(tmp_path, api={"host": "127.0.0.1", "port": 0, "cors_origins": ["https://crm.example"]}) as d,
        aiohttp.ClientSession() as http,
    ):
        async with http.options(d.url + "/api/calls", headers={"Origin": "https://crm.example"}) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "https://crm.example"
        async with http.get(d.url + "/api/contacts", headers={"Origin": "https://evil.example"}) as resp:
            assert resp.status == 401 and "Access-Control-Allow-Origin" not in resp.headers
        for path in ("/health", "/metrics", "/api/openapi.json"):
            async with http.get(d.url + path) as resp:
                assert resp.status == 401, path
                assert resp.headers["WWW-Authenticate"] == "Bearer"
                assert (await resp.json())["code"] == "unauthorized"
        async with http.get(d.url + "/") as resp:
            assert resp.status == 200 and "<html" in (await resp.text()).lower()
        for role in ("monitor", "agent"):
            async with http.get(d.url + "/health", headers=d.auth(role)) as resp:
                assert resp.status == 200
                assert (await resp.json())["status"] == "ok"
        for role in ("monitor", "supervisor", "admin"):
            async with http.get(d.url + "/metrics", headers=d.auth(role)) as resp:
                assert resp.status == 200, role
                text = await resp.text()
                assert "ctiserver_screen_pop_latency_seconds_bucket" in text
                assert "ctiserver_webhook_backlog" in text
        for role in ("agent", "crm"):
            async with http.get(d.url + "/metrics", headers=d.auth(role)) as resp:
                assert (resp.status, (await resp.json())["code"]) == (403, "forbidden"), role
        async with http.get(d.url + "/api/openapi.json", headers=d.auth("agent")) as resp:
            doc = await resp.json()
            assert doc["openapi"].startswith("3.")
        for path in ("/api/openapi.json", "/api/me", "/api/calls", "/api/queues"):
            async with http.get(d.url + path, headers=d.auth("monitor")) as resp:
                assert (resp.status, (await resp.json())["code"]) == (403, "forbidden"), path
        async with http.get(d.url + "/api/ws", headers=d.auth("monitor")) as resp:
            assert resp.status == 403  # refused before the upgrade
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(d.url + f"/api/ws?access_token={d.tokens['monitor']}&topics=all")
        assert refused.value.status == 403
