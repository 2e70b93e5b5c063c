"""AriCallControl against the simulator over real sockets: dial (answer / no answer / unregistered), bridge,
MOH, variables, recording, hang-up → ChannelGone, DTMF collection with timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from ctiserver.clock import SystemClock
from ctiserver.config import AriConfig
from ctiserver.control import BridgeKind, ChannelGone, DialFailed, DialRequest
from ctiserver.control.ari import AriCallControl
from ctiserver.control.ari_link import AriLink
from ctiserver.control.router import Incoming, StasisRouter
from ctiserver.sim.config import EndpointConfig, SimConfig
from ctiserver.sim.simulator import Simulator


@dataclass
class Env:
    sim: Simulator
    control: AriCallControl
    calls: asyncio.Queue[Incoming]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    endpoints = (
        *SimConfig().endpoints,
        EndpointConfig(name="1003", registered=False),
        EndpointConfig(name="1009", answer_after=None),
    )
    calls: asyncio.Queue[Incoming] = asyncio.Queue()

    async def did(incoming: Incoming) -> None:
        await calls.put(incoming)
        await asyncio.Event().wait()  # keep the call "owned" until the test ends

    async with Simulator(SimConfig(endpoints=endpoints, default_sound_seconds=0.2), seed=3) as sim:
        cfg = AriConfig(url=sim.ari_url, username="cti", password=SecretStr("cti-secret"))
        async with AriLink(cfg, SystemClock()) as link, StasisRouter() as router:
            await asyncio.wait_for(link.connected.wait(), 30)
            control = AriCallControl(link, SystemClock(), router=router)
            link.on_event(control.feed)
            router.register("did", did)
            yield Env(sim, control, calls)


async def _inbound(env: Env) -> tuple[Incoming, object]:
    call = env.sim.place_call(from_number="5550100", from_name="Test Caller", to="100")
    incoming = await asyncio.wait_for(env.calls.get(), 10)
    assert incoming.args == ("did", "100") and incoming.caller_number == "5550100"
    assert incoming.caller_name == "Test Caller" and incoming.exten == "100"
    return incoming, call


async def test_dial_agent_bridge_and_hangup(env: Env) -> None:
    incoming, call = await _inbound(env)
    c = env.control
    caller = incoming.channel_id
    await c.answer(caller)
    await c.start_moh(caller)
    await c.set_variable(caller, "__CTI_ACCOUNT", "42")
    assert await c.get_variable(caller, "__CTI_ACCOUNT") == "42"
    assert await c.get_variable(caller, "NOPE") is None
    agent = await c.dial(DialRequest("PJSIP/1001", timeout=10, originator=caller, app_args=("agent", caller)))
    assert agent in env.sim.engine.channels
    await c.stop_moh(caller)
    bridge = await c.create_bridge(BridgeKind.MIXING, "call")
    await c.add_to_bridge(bridge, [caller, agent])
    assert env.sim.engine.channels[caller].bridge is not None
    name = await c.record(bridge, f"rec-{caller}", bridge=True)
    await c.pause_recording(name)
    await c.resume_recording(name)
    await c.stop_recording(name)
    waiter = asyncio.create_task(c.wait_hangup(caller))
    call.hangup()  # type: ignore[attr-defined]
    await asyncio.wait_for(waiter, 10)
    with pytest.raises(ChannelGone):
        await c.play(caller, ["sound:beep"])
    await c.hangup(agent)
    await c.destroy_bridge(bridge)


async def test_dial_failures_carry_the_reason(env: Env) -> None:
    incoming, _ = await _inbound(env)
    with pytest.raises(DialFailed) as unreg:
        await env.control.dial(DialRequest("PJSIP/1003", timeout=5, app_args=("agent", incoming.channel_id)))
    assert unreg.value.reason == "unavailable"  # HTTP 500 "Allocation failed", as real Asterisk
    with pytest.raises(DialFailed) as noanswer:
        await env.control.dial(DialRequest("PJSIP/1009", timeout=1, app_args=("agent", incoming.channel_id)))
    assert (noanswer.value.reason, noanswer.value.cause) == ("noanswer", 19)
    assert env.control.table.dials == {}


async def test_collect_dtmf_timeouts_and_terminator(env: Env) -> None:
    incoming, call = await _inbound(env)
    c, ch = env.control, incoming.channel_id
    await c.answer(ch)
    got = await c.collect_dtmf(ch, max_digits=4, first_digit_timeout=0.2, inter_digit_timeout=0.2)
    assert got.digits == "" and got.timed_out
    for d in "12#9":
        call.press(d)  # type: ignore[attr-defined]
    got = await c.collect_dtmf(ch, max_digits=4, first_digit_timeout=5, inter_digit_timeout=5)
    assert (got.digits, got.terminated_by) == ("12", "#")
    got = await c.collect_dtmf(ch, max_digits=1, first_digit_timeout=5, inter_digit_timeout=5)
    assert got.digits == "9"  # digits typed ahead stay buffered
    played = await c.play(ch, ["sound:hello-world"], barge_in=True)
    assert played.completed
    call.press("5")  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    res = await c.play(ch, ["sound:demo-congrats"], barge_in=True)
    assert (res.completed, res.digit) == (False, "5")


async def test_cancelled_dial_hangs_the_ringing_leg_up(env: Env) -> None:
    incoming, _ = await _inbound(env)
    ringing, hung_up = asyncio.Event(), asyncio.Event()

    def tap(headers: list[tuple[str, str]]) -> None:  # what the PBX says on AMI about the agent leg
        h = dict(headers)
        if h.get("Channel", "").startswith("PJSIP/1009-"):
            if h.get("Event") == "Newstate" and h.get("ChannelStateDesc") == "Ringing":
                ringing.set()
            if h.get("Event") == "Hangup":
                hung_up.set()

    env.sim.hub.ami_taps.append(tap)
    task = asyncio.create_task(
        env.control.dial(DialRequest("PJSIP/1009", timeout=30, app_args=("agent", incoming.channel_id)))
    )
    await asyncio.wait_for(ringing.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(hung_up.wait(), 10)
    assert env.control.table.dials == {}
