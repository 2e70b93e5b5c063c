"""A hybrid daemon (our ACD + app_queue observed): ``AgentsRouter`` sends the generic agent endpoints to the ACD
for its own agents and to observer mode for app_queue-only agents; the list holds each agent once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from ctiserver.api.observed import AgentsRouter


class Fake:
    def __init__(self, kind: str, ids: Sequence[str]) -> None:
        self.kind, self.ids = kind, list(ids)
        self.calls: list[tuple[str, str, str | None]] = []

    def knows(self, agent_id: str) -> bool:
        return agent_id in self.ids

    def list_agents(self) -> Sequence[Mapping[str, Any]]:
        return [{"agent": i, "by": self.kind} for i in self.ids]

    def get_agent(self, agent_id: str) -> Mapping[str, Any] | None:
        return {"agent": agent_id, "by": self.kind} if agent_id in self.ids else None

    async def agent_action(self, agent_id: str, action: str, reason: str | None) -> Mapping[str, Any]:
        self.calls.append((agent_id, action, reason))
        return {"agent": agent_id, "by": self.kind}

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Mapping[str, Any]:
        return {"agent": agent_id, "by": self.kind}


@pytest.mark.parametrize(
    ("agent", "by"),
    [("1001", "acd"), ("2001", "observer"), ("9999", "acd")],  # unknown to both: the ACD answers its 404
)
async def test_router_sends_each_agent_to_its_owner(agent: str, by: str) -> None:
    acd, observed = Fake("acd", ["1001", "1002"]), Fake("observer", ["1001", "2001"])
    router = AgentsRouter(acd, observed)  # type: ignore[arg-type]
    assert (await router.agent_action(agent, "pause", "lunch"))["by"] == by
    assert (await router.set_skills(agent, {}))["by"] == by
    owner = acd if by == "acd" else observed
    assert owner.calls == [(agent, "pause", "lunch")]
    listed = [(a["agent"], a["by"]) for a in router.list_agents()]
    assert listed == [("1001", "acd"), ("1002", "acd"), ("2001", "observer")]
    got = router.get_agent(agent)
    assert (got or {}).get("by") == (None if agent == "9999" else by)


async def test_observer_only_daemon() -> None:
    observed = Fake("observer", ["2001"])
    router = AgentsRouter(None, observed)  # type: ignore[arg-type]
    assert (await router.agent_action("2001", "ready", None))["by"] == "observer"
    assert [a["agent"] for a in router.list_agents()] == ["2001"]
