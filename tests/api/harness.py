"""Run the real daemon (composition root) with a given set of components on a temporary SQLite database and an
API bound to a free loopback port, with one token per role."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctiserver.api.auth import Role, new_token
from ctiserver.api.component import ApiServer
from ctiserver.app import AppContext, running
from ctiserver.config import Config

CTI_COMPONENTS = (
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.crm.component",
    "ctiserver.api.component",
)
# the dialer's API against the simulator (no ACD: the AMI desk)
DIALER_COMPONENTS = (
    "ctiserver.sim.component",
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.dialer.component",
    "ctiserver.api.component",
)


@dataclass
class Daemon:
    ctx: AppContext
    api: ApiServer
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.api.url

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def post(self, http: Any, path: str, body: Any = None, role: str = "agent") -> tuple[int, Any]:
        """POST JSON to ``path`` (``/api/...``) as ``role``: (status, the JSON answer or None when empty)."""
        async with http.post(self.url + path, headers=self.auth(role), json=body or {}) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    async def token(self, role: Role, agent: str | None = None) -> str:
        token, record = new_token(role, agent, f"test {role.value}", self.ctx.clock.now())
        await self.api.auth.store.add(record)
        return token


def make_config(tmp: Path, **extra: Any) -> Config:
    data: dict[str, Any] = {
        "api": {"host": "127.0.0.1", "port": 0},
        "database": {"url": f"sqlite+aiosqlite:///{tmp}/cti.sqlite", "spool_dir": str(tmp / "spool")},
        "default_region": "RU",
        "data_dir": str(tmp),
    }
    data.update(extra)
    return Config.model_validate(data)


@asynccontextmanager
async def daemon(
    tmp: Path, components: tuple[str, ...] = CTI_COMPONENTS, **extra: Any
) -> AsyncIterator[Daemon]:
    async with running(make_config(tmp, **extra), components=components) as ctx:
        d = Daemon(ctx, ctx.require(ApiServer))
        d.tokens["admin"] = await d.token(Role.ADMIN)
        d.tokens["supervisor"] = await d.token(Role.SUPERVISOR)
        d.tokens["crm"] = await d.token(Role.CRM)
        d.tokens["agent"] = await d.token(Role.AGENT, "1001")
        d.tokens["agent2"] = await d.token(Role.AGENT, "1002")
        d.tokens["monitor"] = await d.token(Role.MONITOR)
        yield d
