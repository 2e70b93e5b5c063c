"""A dialler call its agent transfers, over the wire: the whole daemon (dialler with the ACD desk, ACD over ARI)
against the simulator. The live answer reaches the campaign's agent; a supervisor transfers it (blind) to
another agent through the API; the second agent's phone rings with the contact's data on the screen (the data
travels with the transfer), the customer talks to them, and the attempt stays the first agent's connected call."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.service import AcdService
from ctiserver.api.auth import Role, new_token
from ctiserver.dialer.model import Contact, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.sim.model import ChanState
from tests.dialer.acd_daemon import AGENTS, QUEUE, daemon, listen
from tests.dialer.waits import until
from tests.dialer.wire import number, window_around_now

pytestmark = pytest.mark.slow

CALLEE = number(5)


@pytest.mark.parametrize("kind", ["blind", "attended"])
async def test_a_dialler_call_transferred_to_another_agent_keeps_the_contact_on_the_screen(
    tmp_path: Path, kind: str
) -> None:
    campaign = {
        "name": "spring",
        "mode": "progressive",
        "queue": QUEUE,
        "caller_id": "5550200",
        "retry": {"max_attempts": 1},
        "windows": window_around_now().model_dump(mode="json"),
    }
    contact = Contact("k5", "spring", CALLEE, "Europe/Berlin", name="Kunde 5", fields={"offer": "O-5"})
    first, second = AGENTS[0], AGENTS[1]
    async with daemon(tmp_path, campaign, factor=4.0) as d, aiohttp.ClientSession() as http:
        for a in AGENTS:
            d.sim.agent(a, answer_after=0.3)
        d.sim.customer(CALLEE, answer_after=1.0, hangup_after=30.0)
        seen = listen(d)
        acd = d.ctx.require(AcdService)
        for a in AGENTS[1:]:
            await acd.pause(a, "break")
        dialer = d.ctx.require(DialerService)
        await dialer.add_contacts("spring", [contact])
        await dialer.start("spring")

        def answered_by(agent: str) -> list[str]:
            return [e.subject for e in seen if e.type == "agent.answered" and e.data.get("agent") == agent]

        assert await until(lambda: answered_by(first), 30.0), [e.type for e in seen]
        [attempt_id] = answered_by(first)
        await acd.ready(second)
        token, record = new_token(Role.SUPERVISOR, "sup", "supervisor", d.clock.now())
        await d.api.auth.store.add(record)
        async with http.post(
            f"{d.api.url}/api/calls/{attempt_id}/transfer",
            json={"target": f"agent:{second}", "kind": kind},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status < 300, await resp.text()
        if kind == "attended":  # the consultation: the second agent answers, then the supervisor completes it
            assert await until(lambda: acd.agents.get(second).state is AgentState.ON_CALL, 30.0)
            async with http.post(
                f"{d.api.url}/api/calls/{attempt_id}/transfer/complete", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert resp.status < 300, await resp.text()
        assert await until(lambda: acd.agents.get(second).state is AgentState.ON_CALL, 30.0), [e.type for e in seen]
        ringing = [e.data for e in seen if e.type == "agent.ringing" and e.data.get("agent") == second]
        # the customer talks to the second agent; the first one wraps up
        assert await until(lambda: acd.agents.get(first).state is not AgentState.ON_CALL, 20.0)
        customer = [c for c in d.sim.engine.channels.values() if c.tags.get("dialled") == CALLEE]
        assert customer and customer[0].state is ChanState.UP
        runner = dialer.runners["spring"]
        assert await until(lambda: runner.counters["outcome_human"] == 1, 60.0), runner.live_stats()
        [attempt] = await dialer.store.attempts("spring")
        assert await until(lambda: all(acd.agents.get(a).state is AgentState.READY for a in (first, second)), 60.0)
    assert attempt.id == attempt_id and attempt.outcome is Outcome.HUMAN and attempt.agent == first
    assert ringing and ringing[-1]["attached"]["fields"] == {"offer": "O-5"}
    assert ringing[-1]["attached"]["contact_id"] == "k5"
