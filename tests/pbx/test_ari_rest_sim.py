"""The typed ARI REST methods against the simulator (which follows trace 02: answer, MOH, originate an agent
with ``originator``, mixing bridge, bridge recording, hang-ups), and AMI Originate with its async response."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from ctiserver.config import AmiConfig, AriConfig
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent, AmiResponse
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.ari.models import (
    AriEvent,
    ChannelDestroyed,
    ChannelEnteredBridge,
    PlaybackFinished,
    RecordingStarted,
    StasisStart,
)
from ctiserver.pbx.ari.rest import AriError
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.waiting import until as _until

WAIT = 30.0


async def until(cond: Callable[[], object], within: float = WAIT) -> None:
    await _until(cond, within, poll=0.02)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimConfig()) as s:
        yield s


def first(
    events: list[AriEvent], kind: type[AriEvent], pred: Callable[[AriEvent], bool] = lambda e: True
) -> AriEvent:
    return next(e for e in events if isinstance(e, kind) and pred(e))


async def test_caller_agent_bridge_and_recording_over_rest(sim: Simulator) -> None:
    sim.agent("1001", answer_after=0.3)
    async with AriClient(AriConfig(url=sim.ari_url, request_timeout=WAIT)) as ari:
        events: list[AriEvent] = []
        ari.on_event("*", events.append)
        sim.place_call(from_number="5550100", from_name="Test Caller", to="100", hangup_after=20.0)
        await until(lambda: any(isinstance(e, StasisStart) for e in events))
        caller = first(events, StasisStart).channel  # type: ignore[attr-defined]
        await ari.answer(caller.id)
        assert (await ari.get_channel(caller.id)).state == "Up"
        playback = await ari.play(caller.id, "sound:hello-world", playback_id="pb-hello")
        assert playback.id == "pb-hello"
        await until(
            lambda: any(isinstance(e, PlaybackFinished) and e.playback.id == "pb-hello" for e in events)
        )
        await ari.set_variable(caller.id, "CTI_DATA_ACCOUNT", "42")
        assert await ari.get_variable(caller.id, "CTI_DATA_ACCOUNT") == "42"
        await ari.start_moh(caller.id, "default")

        agent = await ari.originate(
            "PJSIP/1001",
            app="ctiserver",
            app_args=["agent", caller.id],
            caller_id="Test Caller <5550100>",
            originator=caller.id,
            timeout=20,
        )
        assert agent.name.startswith("PJSIP/1001")
        await until(lambda: any(isinstance(e, StasisStart) and e.channel.id == agent.id for e in events))
        bridge = await ari.create_bridge("mixing", name="call-1")
        await ari.stop_moh(caller.id)
        await ari.add_channel(bridge.id, [caller.id, agent.id])
        await until(lambda: sum(isinstance(e, ChannelEnteredBridge) for e in events) >= 2)
        assert set((await ari.get_bridge(bridge.id)).channels) == {caller.id, agent.id}
        recording = await ari.bridge_record(bridge.id, "call-1-rec", format="wav")
        assert recording.name == "call-1-rec"
        await until(lambda: any(isinstance(e, RecordingStarted) for e in events))
        assert {c.id for c in await ari.list_channels()} >= {caller.id, agent.id}

        await ari.hangup(agent.id)
        await until(lambda: any(isinstance(e, ChannelDestroyed) and e.channel.id == agent.id for e in events))
        await ari.hangup(caller.id)
        await ari.destroy_bridge(bridge.id)
        with pytest.raises(AriError) as gone:
            await ari.answer(caller.id)
        assert gone.value.status == 404


async def test_ami_originate_and_its_async_response(sim: Simulator) -> None:
    sim.agent("1002", answer_after=0.3, hangup_after=0.5)
    sim.agent("1003", registered=False)
    config = AmiConfig(port=sim.ami_port, keepalive_interval=0, action_timeout=WAIT)
    async with AmiClient(config) as ami:
        results: list[AmiEvent] = []
        ami.on_event("OriginateResponse", results.append)
        queued = await ami.action("Originate", {
            "Channel": "PJSIP/1002", "Context": "from-agents", "Exten": "1001", "Priority": "1",
            "CallerID": "Outbound <5550200>", "Async": "true", "Variable": ["CAMPAIGN=7", "CONTACT_ID=c1"],
        }, check=True)  # fmt: skip
        assert isinstance(queued, AmiResponse) and queued.ok
        unregistered = {"Channel": "PJSIP/1003", "Context": "from-agents", "Exten": "1001", "Async": "true"}
        failed = await ami.action("Originate", {**unregistered, "Priority": "1"})
        assert isinstance(failed, AmiResponse)
        await until(lambda: len(results) == 2)
        by_channel = {e["Channel"].split("-")[0]: e for e in results}
        assert by_channel["PJSIP/1002"]["Response"] == "Success"
        assert by_channel["PJSIP/1003"]["Response"] == "Failure"
        assert results[0].action_id == queued.action_id or results[1].action_id == queued.action_id
