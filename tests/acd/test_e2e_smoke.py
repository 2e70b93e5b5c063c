"""One call at a time over the wire: ringing → screen-pop → answer → bridge → recording → wrap-up; RONA;
caller hanging up while the agent's phone rings."""

from __future__ import annotations

from pathlib import Path

from ctiserver.acd.agent_state import AgentState
from ctiserver.recording.meta import RecState
from tests.acd.clocks import wait_for
from tests.acd.e2e_rig import JUNIORS, SPECIALISTS, rig


async def test_one_easy_call_end_to_end(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        agent = JUNIORS[0]
        call = r.sim.place_call(from_number="5550100", from_name="Test Caller", to="100", hangup_after=6.0)
        await wait_for(lambda: bool(r.of("agent.answered")))
        types = [e.type for e in r.of("agent.offered", "agent.ringing", "agent.answered")]
        assert types == ["agent.offered", "agent.ringing", "agent.answered"]
        ring = r.of("agent.ringing")[0]
        assert ring.data["agent"] == agent and ring.data["attached"] == {"did": "100", "ivr_path": []}
        assert ring.data["caller_number"] == "5550100" and ring.subject == call.channel_id
        leg = r.sim.engine.channels[ring.data["channel"]]
        assert (
            leg.linkedid == call.channel.linkedid if call.channel else False
        )  # originator kept the linkedid
        await wait_for(call.done.is_set)
        await wait_for(lambda: r.acd.agents.get(agent).state is AgentState.WRAP_UP)
        await wait_for(lambda: bool(r.of("recording.ready")))
        meta = r.of("recording.ready")[0].data
        assert meta["state"] == RecState.DONE.value and meta["call_id"] == call.channel_id
        assert meta["size"] > 44 and 0.0 < meta["duration"] < 8.0
        assert Path(meta["path"]).name == f"{call.channel_id}-1.wav"
        await wait_for(lambda: r.acd.agents.get(agent).state is AgentState.READY)
        # the state is READY in memory before its event is published (written first): wait for the event
        await wait_for(lambda: [e.data["state"] for e in r.of("agent.state") if e.subject == agent][-1] == "ready")
        states = [e.data["state"] for e in r.of("agent.state") if e.subject == agent]
        assert states[-5:] == ["reserved", "ringing", "on_call", "wrap_up", "ready"]


async def test_rona_and_abandon_while_ringing(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[2:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        r.sim.agent(JUNIORS[0], answer_after=None)  # never answers: RONA after the ring timeout
        r.sim.agent(JUNIORS[1], answer_after=1.0)
        await r.acd.pause(JUNIORS[1], "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=30.0)
        await wait_for(lambda: r.acd.agents.get(JUNIORS[0]).status.reason == "missed")
        await r.acd.ready(JUNIORS[1])
        await wait_for(lambda: r.acd.agents.get(JUNIORS[1]).state is AgentState.ON_CALL)
        assert [e.data["why"] for e in r.of("queue.requeued")] == ["missed"]
        call.hangup()
        await wait_for(lambda: r.acd.agents.get(JUNIORS[1]).state is AgentState.WRAP_UP)
        # now a caller who hangs up while the only free agent's phone rings
        r.sim.agent(JUNIORS[1], answer_after=None)
        await wait_for(lambda: r.acd.agents.get(JUNIORS[1]).state is AgentState.READY)
        call2 = r.sim.place_call(from_number="5550101", to="100", hangup_after=30.0)
        await wait_for(lambda: r.acd.agents.get(JUNIORS[1]).state is AgentState.RINGING)
        call2.hangup()
        await wait_for(lambda: r.acd.agents.get(JUNIORS[1]).state is AgentState.READY)
        await wait_for(
            lambda: not any(c.endpoint == f"PJSIP/{JUNIORS[1]}" for c in r.sim.engine.channels.values())
        )
        assert r.acd.stats["easy"].abandoned == 1


async def test_hard_call_relaxes_to_a_junior_after_the_rule_time(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=8.0) as r:
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="101", hangup_after=40.0)
        await wait_for(lambda: bool(r.of("queue.entered")))
        await wait_for(lambda: bool(r.of("agent.answered")), within=30)
        left = next(e for e in r.of("queue.left") if e.data["outcome"] == "answered")
        assert left.data["relaxed"] and left.data["agent"] == JUNIORS[0]
        assert left.data["waited"] >= 15.0  # the hard queue's rule: any agent, best skill, after 15 s
        assert r.acd.stats["hard"].relaxed_answers == 1
        call.hangup()


async def test_recording_pause_and_resume_over_the_wire(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=60.0)
        await wait_for(lambda: bool(r.of("recording.started")))
        name = r.of("recording.started")[0].data["name"]
        await r.clock.sleep(2.0)
        await r.recordings.pause(name, by=f"agent:{JUNIORS[0]}")  # the caller reads a card number
        await r.clock.sleep(3.0)
        await r.recordings.resume(name, by=f"agent:{JUNIORS[0]}")
        await r.clock.sleep(2.0)
        call.hangup()
        await wait_for(lambda: bool(r.of("recording.ready")))
        meta = r.of("recording.ready")[0].data
        [pause] = meta["pauses"]
        assert pause["by"] == pause["resumed_by"] == f"agent:{JUNIORS[0]}"
        paused = pause["resumed_at"] - pause["at"]
        assert paused > 2.5
        total = meta["ended_at"] - meta["started_at"]
        assert meta["state"] == "done" and meta["duration"] < total - 2.0  # paused audio left out
        assert abs(meta["duration"] - (total - paused)) < 2.0
        assert [e.type for e in r.of("recording.paused", "recording.resumed")] == [
            "recording.paused",
            "recording.resumed",
        ]


async def test_hold_and_recording_by_call_id_on_demand_queue(tmp_path: Path) -> None:
    from ctiserver.recording.config import Policy, QueuePolicy

    async with rig(tmp_path, factor=4.0) as r:
        r.recordings.config = r.recordings.config.model_copy(
            update={"queues": {"easy": QueuePolicy(policy=Policy.ON_DEMAND)}}
        )
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=60.0)
        await wait_for(lambda: bool(r.of("agent.answered")))
        assert not r.of("recording.started")  # on demand: nothing yet
        started = await r.acd.recording_action(call.channel_id, "start", by="agent:2001")
        assert started["state"] == "recording"
        await r.acd.hold(call.channel_id, True)
        await wait_for(lambda: call.channel is not None and call.channel.bridge is None)
        await r.acd.hold(call.channel_id, False)
        await wait_for(lambda: call.channel is not None and call.channel.bridge is not None)
        paused = await r.acd.recording_action(call.channel_id, "pause", by="agent:2001")
        assert paused["state"] == "paused"
        call.hangup()
        await wait_for(lambda: bool(r.of("recording.ready")))
        assert r.of("recording.ready")[0].data["pauses"][0]["resumed_by"] == "stop"


async def test_transfers_over_the_wire_keep_call_id_and_data(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[2:] + SPECIALISTS[1:]:
            await r.acd.pause(n, "break")
        first, second, spec = JUNIORS[0], JUNIORS[1], SPECIALISTS[0]
        await r.acd.pause(second, "break")
        await r.acd.pause(spec, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=120.0)
        await wait_for(lambda: r.acd.agents.get(first).state is AgentState.ON_CALL)
        # blind to the hard queue: the specialist gets it, same call id, data + transferred_from
        await r.acd.ready(spec)
        await r.acd.transfer(call.channel_id, "queue:hard")
        await wait_for(lambda: r.acd.agents.get(spec).state is AgentState.ON_CALL)
        pop = [e for e in r.of("agent.ringing") if e.data["agent"] == spec][-1]
        assert pop.subject == call.channel_id and pop.data["attached"]["transferred_from"] == first
        assert r.acd.agents.get(first).state in (AgentState.WRAP_UP, AgentState.READY)
        # attended to a junior: consult, then complete
        await r.acd.ready(second)
        await r.acd.transfer(call.channel_id, f"agent:{second}", kind="attended")
        assert r.acd.agents.get(second).state is AgentState.ON_CALL
        await r.acd.complete_transfer(call.channel_id)
        await wait_for(lambda: r.acd.agents.get(spec).state in (AgentState.WRAP_UP, AgentState.READY))
        assert call.channel is not None and not call.done.is_set()
        assert call.channel.bridge is not None
        legs = {c.linkedid for c in r.sim.engine.channels.values() if c.endpoint == f"PJSIP/{second}"}
        assert legs == {call.channel.linkedid}  # the transfer legs belong to the same call
        call.hangup()
        await wait_for(lambda: r.acd.agents.get(second).state is AgentState.WRAP_UP)
        names = sorted(e.data["name"] for e in r.of("recording.ready"))
        assert names == [f"{call.channel_id}-1", f"{call.channel_id}-2"]  # one per bridged conversation


async def test_an_unregistered_phone_makes_its_agent_unavailable(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[2:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        phone = r.sim.agent(JUNIORS[0])
        phone.register(False)
        await wait_for(lambda: not r.acd.agents.get(JUNIORS[0]).registered)
        assert r.acd.agents.get(JUNIORS[0]).state is AgentState.READY  # state kept, just not offered calls
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=60.0)
        await wait_for(lambda: bool(r.of("agent.answered")))
        assert r.of("agent.answered")[0].data["agent"] == JUNIORS[1]
        phone.register(True)
        await wait_for(lambda: r.acd.agents.get(JUNIORS[0]).registered)
        call.hangup()


async def test_queue_segments_survive_an_ami_link_running_behind_ari(tmp_path: Path) -> None:
    """AMI and ARI are separate sockets: under load AMI runs seconds behind, so the ACD reports the caller's
    queue stay before the tracker has seen the call. The stay must still land on the call record."""
    async with rig(tmp_path, factor=4.0, ami_lag=1.0) as r:
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=3.0)
        await wait_for(lambda: bool(r.of("queue.left")))
        assert r.tracker.call_of(call.channel_id) is None  # the ACD is done with it; AMI has not shown it yet
        await wait_for(call.done.is_set)
        await wait_for(lambda: call.channel_id in r.tracker.finished)
        done = r.tracker.finished[call.channel_id]
        [seg] = done.queues
        assert (seg.queue, seg.outcome, seg.agent) == ("easy", "answered", JUNIORS[0])
        assert seg.entered <= seg.answered
        assert len(r.tracker.early) == 0 and r.tracker.early.expired == 0
