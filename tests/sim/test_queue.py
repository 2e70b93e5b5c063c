"""app_queue model over AMI: answered, abandoned, strategies (traces 04/05, scenario 13's rrmemory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ctiserver.sim.config import QueueConfig, SimConfig
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    cfg = SimConfig(
        queues=(
            QueueConfig(name="support", strategy="ringall", timeout=15, retry=0.2),
            QueueConfig(name="rr", strategy="rrmemory", timeout=5, retry=0.2),
            QueueConfig(name="lr", strategy="leastrecent", timeout=5, retry=0.2),
        ),
        dialplan={
            "from-external": {
                "200": ({"app": "Answer"}, {"app": "Queue", "data": "support,t,,,300"}, {"app": "Hangup"}),
                "300": ({"app": "Answer"}, {"app": "Queue", "data": "rr"}, {"app": "Hangup"}),
                "400": ({"app": "Answer"}, {"app": "Queue", "data": "lr"}, {"app": "Hangup"}),
            },
            "from-agents": {"_100X": ({"app": "Dial", "data": "PJSIP/${EXTEN},30"}, {"app": "Hangup"})},
        },
    )
    async with Simulator(cfg) as s:
        yield s


@pytest.fixture
async def ami(sim: Simulator) -> AsyncIterator[AmiProbe]:
    probe = AmiProbe()
    await probe.connect(sim.ami_port)
    yield probe
    await probe.close()


async def _add(ami: AmiProbe, queue: str, iface: str) -> None:
    resp = await ami.action("QueueAdd", [("Queue", queue), ("Interface", iface), ("MemberName", iface)])
    assert get(resp, "Message") == "Added interface to queue"


async def test_queue_answered_by_agent(sim: Simulator, ami: AmiProbe) -> None:
    agent = sim.agent("1001", answer_after=None)
    await _add(ami, "support", "PJSIP/1001")
    again = await ami.action("QueueAdd", [("Queue", "support"), ("Interface", "PJSIP/1001")])
    assert (
        get(again, "Response") == "Error"
        and get(again, "Message") == "Unable to add interface: Already there"
    )
    call = sim.place_call(from_number="5550100", from_name="Test Caller", to="200")
    called = await ami.wait_event("AgentCalled", Queue="support")
    assert get(called, "Interface") == "PJSIP/1001" and get(called, "DestChannelStateDesc") == "Down"
    assert agent.answer()
    connect = await ami.wait_event("AgentConnect")
    assert get(connect, "Queue") == "support" and get(connect, "MemberName") == "PJSIP/1001"
    agent.hangup()
    complete = await ami.wait_event("AgentComplete")
    assert get(complete, "Reason") == "agent"
    await asyncio.wait_for(call.done.wait(), 20)
    cid = call.channel_id
    seq = [get(m, "Event") for m in ami.events() if get(m, "Uniqueid") == cid]
    order = ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete", "Hangup"]
    assert [e for e in seq if e in order] == order
    assert [get(m, "Cause") for m in ami.events("Hangup")] == ["16", "16"]
    assert any("|CONNECT|" in line for line in sim.engine.queues.log)
    assert any("|COMPLETEAGENT|" in line for line in sim.engine.queues.log)


async def test_queue_abandoned_while_member_paused(sim: Simulator, ami: AmiProbe) -> None:
    sim.agent("1001", answer_after=0.1)
    await _add(ami, "support", "PJSIP/1001")
    paused = await ami.action(
        "QueuePause",
        [("Queue", "support"), ("Interface", "PJSIP/1001"), ("Paused", "true"), ("Reason", "lunch")],
    )
    assert get(paused, "Message") == "Interface paused successfully"
    pause_ev = await ami.wait_event("QueueMemberPause")
    assert get(pause_ev, "PausedReason") == "lunch" and get(pause_ev, "Paused") == "1"
    call = sim.place_call(from_number="5550100", to="200", hangup_after=1.0)
    abandon = await ami.wait_event("QueueCallerAbandon")
    assert get(abandon, "Position") == "1" and get(abandon, "OriginalPosition") == "1"
    await asyncio.wait_for(call.done.wait(), 20)
    hangup = await ami.wait_event("Hangup", Uniqueid=call.channel_id)
    assert get(hangup, "Cause") == "0"
    assert not ami.events("AgentCalled")
    status = await ami.action("QueueStatus", [("Queue", "support")])
    assert get(status, "EventList") == "start"
    member = await ami.wait_event("QueueMember", Queue="support")
    assert get(member, "Paused") == "1"
    await ami.wait_event("QueueStatusComplete")


async def _answered_by(sim: Simulator, ami: AmiProbe, did: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        call = sim.place_call(to=did)  # the caller hangs up once connected (robust to a slow machine)
        connect = await ami.wait(
            lambda m, c=call: get(m, "Event") == "AgentConnect" and get(m, "Uniqueid") == c.channel_id
        )
        out.append(get(connect, "Interface") or "")
        call.hangup()
        await asyncio.wait_for(call.done.wait(), 20)
        await ami.wait(
            lambda m, c=call: get(m, "Event") == "AgentComplete" and get(m, "Uniqueid") == c.channel_id
        )
    return out


async def test_rrmemory_rotates_members(sim: Simulator, ami: AmiProbe) -> None:
    for n in ("1001", "1002", "1003"):
        sim.agent(n, answer_after=0.05)
        await _add(ami, "rr", f"PJSIP/{n}")
    got = await _answered_by(sim, ami, "300", 4)
    assert got == ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1001"]


async def test_leastrecent_prefers_idle_longest(sim: Simulator, ami: AmiProbe) -> None:
    for n in ("1004", "1005"):
        sim.agent(n, answer_after=0.05)
        await _add(ami, "lr", f"PJSIP/{n}")
    got = await _answered_by(sim, ami, "400", 3)
    assert got == ["PJSIP/1004", "PJSIP/1005", "PJSIP/1004"]


async def test_ringall_rings_every_free_member(sim: Simulator, ami: AmiProbe) -> None:
    sim.agent("1006", answer_after=None)
    late = sim.agent("1007", answer_after=None)
    await _add(ami, "support", "PJSIP/1006")
    await _add(ami, "support", "PJSIP/1007")
    call = sim.place_call(to="200", hangup_after=2)
    await ami.wait(lambda m: get(m, "Event") == "AgentCalled" and get(m, "Interface") == "PJSIP/1007")
    await ami.wait(lambda m: get(m, "Event") == "AgentCalled" and get(m, "Interface") == "PJSIP/1006")
    await ami.wait(
        lambda m: (
            get(m, "Event") == "DialState"
            and get(
                m,
                "DestChannel",
            ).startswith("PJSIP/1007")
            if get(m, "DestChannel")
            else False
        )
    )
    assert late.answer()
    connect = await ami.wait_event("AgentConnect")
    assert get(connect, "Interface") == "PJSIP/1007"
    cancel = await ami.wait(lambda m: get(m, "Event") == "DialEnd" and get(m, "DialStatus") == "CANCEL")
    assert (get(cancel, "DestChannel") or "").startswith("PJSIP/1006-")
    await asyncio.wait_for(call.done.wait(), 20)


async def test_attended_transfer_through_local(sim: Simulator, ami: AmiProbe) -> None:
    agent = sim.agent("1001", answer_after=0.05)
    sim.agent("1002", answer_after=0.05)
    await _add(ami, "support", "PJSIP/1001")
    call = sim.place_call(from_number="5550100", from_name="Test Caller", to="200")
    await ami.wait_event("AgentConnect")
    agent_chan = next(c.name for c in sim.engine.channels.values() if c.name.startswith("PJSIP/1001-"))
    bad = await ami.action("Atxfer", [("Channel", "PJSIP/none-1"), ("Exten", "1002")])
    assert get(bad, "Message") == "No such channel"
    resp = await ami.action(
        "Atxfer", [("Channel", agent_chan), ("Exten", "1002"), ("Context", "from-agents")]
    )
    assert get(resp, "Message") == "Atxfer successfully queued"
    await ami.wait(lambda m: get(m, "Event") == "MusicOnHoldStart" and get(m, "Uniqueid") == call.channel_id)
    # the transferer talks to 1002 through a Local channel, then hangs up to complete the transfer
    await ami.wait(
        lambda m: get(m, "Event") == "BridgeEnter" and (get(m, "Channel") or "").startswith("PJSIP/1002-")
    )
    await ami.wait(lambda m: get(m, "Event") == "BridgeEnter" and get(m, "Channel") == agent_chan)
    agent.hangup()
    done = await ami.wait_event("AttendedTransfer")
    assert get(done, "Result") == "Success" and get(done, "TransfereeUniqueid") == call.channel_id
    assert (get(done, "TransferTargetChannel") or "").startswith("Local/1002@from-agents-")
    complete = await ami.wait_event("AgentComplete")
    assert get(complete, "Reason") == "transfer"
    assert any("|ATTENDEDTRANSFER|1002|from-agents|" in line for line in sim.engine.queues.log)
    caller = sim.engine.channels[call.channel_id]
    assert caller.bridge is not None and {c.name.split("-")[0] for c in caller.bridge.channels} == {
        "PJSIP/caller",
        "Local/1002@from",
    }
    call.hangup()
    await asyncio.wait_for(call.done.wait(), 20)
    for _ in range(100):
        if not sim.engine.channels:
            break
        await asyncio.sleep(0.05)
    assert not sim.engine.channels


async def test_queue_add_paused_keeps_the_reason(sim: Simulator, ami: AmiProbe) -> None:
    """app_queue's QueueAdd takes Reason with Paused (core-en_US.xml): the member is added paused with it."""
    resp = await ami.action(
        "QueueAdd",
        [("Queue", "support"), ("Interface", "PJSIP/1002"), ("Paused", "true"), ("Reason", "training")],
    )
    assert get(resp, "Response") == "Success"
    added = await ami.wait_event("QueueMemberAdded", Interface="PJSIP/1002")
    assert get(added, "Paused") == "1" and get(added, "PausedReason") == "training"
    await _add(ami, "support", "PJSIP/1003")  # not paused: a Reason means nothing then
    plain = await ami.wait_event("QueueMemberAdded", Interface="PJSIP/1003")
    assert get(plain, "Paused") == "0" and get(plain, "PausedReason") == ""
