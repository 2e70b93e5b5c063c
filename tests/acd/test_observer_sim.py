"""Observer mode over the wire: the simulator's app_queue model, our AMI client, QueueAdd/QueuePause with
reasons, and the queue scenarios of the traces (04 answered, 05 paused + abandoned, 07 blind transfer,
11 MixMonitor)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from ctiserver.acd.observer import QueueObserver
from ctiserver.acd.observer_actions import AppQueueAgents, ObserverActionFailed
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.config import AmiConfig
from ctiserver.events import DomainEvent, InMemoryBus
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.acd.clocks import FastClock, wait_for

CALLER = {"from_number": "5550100", "from_name": "Test Caller"}


@dataclass
class Rig:
    sim: Simulator
    ami: AmiClient
    observer: QueueObserver
    agents: AppQueueAgents
    events: list[DomainEvent]
    store: MemoryAgentStore

    def states(self, agent: str = "1001") -> list[str]:
        out: list[str] = []
        for e in self.events:
            if e.type == "agent.state" and e.subject == agent and "state" in e.data:
                label = str(e.data["state"]) + (f"({e.data['reason']})" if e.data.get("reason") else "")
                if not out or out[-1] != label:
                    out.append(label)
        return out


@pytest.fixture
async def rig(tmp_path: object) -> AsyncIterator[Rig]:
    clock = FastClock(4.0)
    async with Simulator(SimConfig(recordings_dir=str(tmp_path)), clock=clock) as sim:
        bus = InMemoryBus()
        events: list[DomainEvent] = []
        bus.listeners.append(events.append)
        store = MemoryAgentStore()
        observer = QueueObserver(clock, bus, store, agent_ids={"PJSIP/1001": "1001", "PJSIP/1002": "1002"})
        ami = AmiClient(AmiConfig(port=sim.ami_port), clock)
        ami.on_event("*", observer.feed)
        async with ami:
            import asyncio

            runner = asyncio.create_task(observer.run())
            try:
                yield Rig(sim, ami, observer, AppQueueAgents(ami, ("lunch", "break")), events, store)
            finally:
                runner.cancel()


async def test_04_answered_call(rig: Rig) -> None:
    rig.sim.agent("1001", answer_after=2.0, hangup_after=3.0)
    await rig.agents.login("PJSIP/1001", ["support"], name="Agent 1001")
    await wait_for(lambda: rig.states() == ["ready"])
    call = rig.sim.place_call(**CALLER, to="200")
    await wait_for(call.done.is_set)
    await rig.agents.logout("PJSIP/1001", ["support"])
    await wait_for(lambda: rig.states()[-1:] == ["logged_out"])
    assert rig.states() == ["ready", "reserved", "ringing", "on_call", "ready", "logged_out"]
    q = rig.observer.queues["support"]
    assert (q.entered, q.answered, q.abandoned) == (1, 1, 0)
    ring = next(e for e in rig.events if e.type == "agent.ringing")
    assert ring.data["agent"] == "1001" and ring.data["caller_number"] == "5550100"
    assert rig.store.current["1001"].state.value == "logged_out"


async def test_05_pause_with_reason_and_abandon(rig: Rig) -> None:
    rig.sim.agent("1001", answer_after=0.05)
    await rig.agents.login("PJSIP/1001", ["support"], name="Agent 1001")
    await rig.agents.pause("PJSIP/1001", "lunch", queue="support")
    with pytest.raises(ObserverActionFailed):
        await rig.agents.pause("PJSIP/1001", "nap")
    call = rig.sim.place_call(**CALLER, to="200", hangup_after=5.0)
    await wait_for(call.done.is_set)
    await rig.agents.ready("PJSIP/1001", queue="support")
    await rig.agents.logout("PJSIP/1001", ["support"])
    await wait_for(lambda: rig.states()[-1:] == ["logged_out"])
    assert rig.states() == ["ready", "not_ready(lunch)", "ready", "logged_out"]
    q = rig.observer.queues["support"]
    assert (q.entered, q.answered, q.abandoned) == (1, 0, 1)


async def test_07_blind_transfer_frees_the_agent(rig: Rig) -> None:
    rig.sim.agent("1001", answer_after=0.05)
    rig.sim.agent("1002", answer_after=0.05)
    await rig.agents.login("PJSIP/1001", ["support"])
    call = rig.sim.place_call(**CALLER, to="200", hangup_after=4.6)
    await wait_for(lambda: "on_call" in rig.states())
    agent_chan = next(ch.name for ch in rig.sim.engine.channels.values() if ch.name.startswith("PJSIP/1001-"))
    await rig.ami.action(
        "BlindTransfer", [("Channel", agent_chan), ("Exten", "1002"), ("Context", "from-agents")]
    )
    await wait_for(lambda: rig.states()[-1:] == ["ready"])
    await wait_for(call.done.is_set)
    assert rig.states() == ["ready", "reserved", "ringing", "on_call", "ready"]
    assert rig.observer.queues["support"].answered == 1


async def test_11_mixmonitor_does_not_disturb_states_and_unregistered_device_is_seen(rig: Rig) -> None:
    agent = rig.sim.agent("1001", answer_after=0.05)
    await rig.agents.login("PJSIP/1001", ["support"])
    call = rig.sim.place_call(**CALLER, to="200", hangup_after=3.0)
    await wait_for(lambda: "on_call" in rig.states())
    await rig.ami.action("MixMonitor", [("Channel", call.name), ("File", "cti-mix-11.wav"), ("Options", "")])
    await rig.ami.action("MixMonitorMute", [("Channel", call.name), ("Direction", "both"), ("State", "1")])
    await rig.ami.action("StopMixMonitor", [("Channel", call.name)])
    await wait_for(call.done.is_set)
    await wait_for(lambda: rig.states()[-1:] == ["ready"])
    agent.register(False)
    await wait_for(lambda: not rig.observer.agents["pjsip/1001"].registered)
    assert rig.states() == ["ready", "reserved", "ringing", "on_call", "ready"]
