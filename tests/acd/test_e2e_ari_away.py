"""The ARI events socket drops while a caller waits (network, Asterisk busy): the ACD offers nothing while it is
away — an offer would be blind (the agent's answer and the caller's hang-up are not seen), and the agent would be
set not ready ("missed") for the PBX link's fault. Once the socket is back, the waiting caller gets the agent."""

from __future__ import annotations

from pathlib import Path

from ctiserver.acd.agent_state import AgentState
from tests.acd.clocks import wait_for
from tests.acd.e2e_rig import JUNIORS, SPECIALISTS, rig


async def test_no_offer_while_the_ari_events_socket_is_away_then_the_caller_is_served(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0, ari_reconnect=8.0) as r:
        link = r.control.ari
        for n in JUNIORS + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=60.0)
        await wait_for(lambda: bool(r.of("queue.entered")))
        for ws in list(r.sim.ari_ws):
            ws.abort()  # no close frame, as a dropped network
        await wait_for(lambda: not link.connected.is_set())  # type: ignore[attr-defined]
        agent = JUNIORS[0]
        before = len([e for e in r.of("agent.state") if e.subject == agent])
        await r.acd.ready(agent)
        await r.clock.sleep(4.0)  # the ACD's router ticks once a second; the socket is back after 8 s
        assert not link.connected.is_set()  # type: ignore[attr-defined]
        assert r.acd.agents.get(agent).state is AgentState.READY
        assert not r.of("agent.offered")
        assert not [c for c in r.sim.engine.channels.values() if c.endpoint == f"PJSIP/{agent}"]
        await wait_for(link.connected.is_set)  # type: ignore[attr-defined]
        await wait_for(lambda: r.acd.agents.get(agent).state is AgentState.ON_CALL)
        call.hangup()

        def states() -> list[str]:
            return [e.data["state"] for e in r.of("agent.state") if e.subject == agent][before:]

        # the registry changes first; its agent.state event reaches the bus's subscribers a moment later
        await wait_for(lambda: states()[-1:] == ["wrap_up"])
        assert states() == ["ready", "reserved", "ringing", "on_call", "wrap_up"], states()
        assert [e.data["agent"] for e in r.of("agent.offered")] == [agent]
        assert not r.of("queue.requeued")
