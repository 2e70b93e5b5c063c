"""The events socket drops (Asterisk restart, network): what happened meanwhile is recovered at reconnect —
a playback that ended while we were deaf is finished, a caller who hung up meanwhile is gone."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.app import running
from ctiserver.clock import SystemClock
from ctiserver.config import Config
from ctiserver.control import ChannelGone
from ctiserver.control.ari import AriCallControl
from ctiserver.control.router import Incoming, StasisRouter
from ctiserver.sim.config import Step
from ctiserver.sim.simulator import Simulator
from tests.waiting import until


@pytest.mark.parametrize(
    "components",
    [
        ("ctiserver.sim.component", "ctiserver.control.component"),  # the control's own AriLink
        (
            "ctiserver.sim.component",
            "ctiserver.pbx.component",
            "ctiserver.control.component",
        ),  # PbxNode's client
    ],
)
async def test_missed_events_are_recovered_at_reconnect(components: tuple[str, ...]) -> None:
    config = Config.model_validate(
        {"simulator": {"enabled": True}, "pbx": {"ari": {"reconnect_min": 2.5, "reconnect_max": 2.5}}}
    )
    async with running(config, components=components) as ctx:
        sim = ctx.require(Simulator)
        control = ctx.require(AriCallControl)
        await asyncio.wait_for(control.ari.connected.wait(), 30)  # type: ignore[attr-defined]
        playing = asyncio.Event()
        results: dict[str, object] = {}
        played, gone = asyncio.Event(), asyncio.Event()

        async def handler(incoming: Incoming) -> None:
            ch = incoming.channel_id
            await control.answer(ch)
            playing.set()
            results["play"] = await control.play(ch, ["sound:hello-world"])  # 1.4 s, ends while deaf
            played.set()
            try:
                await control.play(ch, ["sound:hello-world"])
                await control.collect_dtmf(ch, max_digits=1, first_digit_timeout=30, inter_digit_timeout=30)
            except ChannelGone:
                gone.set()

        ctx.require(StasisRouter).register("did", handler)
        call = sim.place_call(from_number="5550100", to="100")
        await asyncio.wait_for(playing.wait(), 10)
        for ws in list(sim.ari_ws):
            ws.abort()  # no close frame, as Asterisk on restart
        await asyncio.sleep(0)
        await asyncio.wait_for(played.wait(), 20)
        assert results["play"].completed  # type: ignore[attr-defined]
        for ws in list(sim.ari_ws):
            ws.abort()
        call.hangup()  # while we are deaf again
        await asyncio.wait_for(gone.wait(), 20)


@pytest.mark.parametrize("endpoint", ["PJSIP/1001", "Local/4930100@ctiserver-outbound"])
async def test_a_leg_still_ringing_at_reconnect_is_not_taken_as_answered(endpoint: str) -> None:
    """Asterisk lists an originated leg among the application's channels (``GET /applications``) from the
    Originate on — still ringing, and for a Local channel both halves. Only a channel that runs ``Stasis`` of our
    app is in it: a dial that rings across a reconnect stays pending, and ends as the callee decides."""
    from ctiserver.cli.dialplan import render
    from ctiserver.control import DialFailed, DialRequest
    from ctiserver.pbx.extensions_conf import parse

    outbound = parse(render(Config())).contexts["ctiserver-outbound"]
    config = Config.model_validate({"simulator": {"enabled": True}, "pbx": {"ari": {"reconnect_min": 0.2}}})
    async with running(config, components=("ctiserver.sim.component", "ctiserver.control.component")) as ctx:
        sim = ctx.require(Simulator)
        sim.engine.config.dialplan["ctiserver-outbound"] = {  # the rendered context, out through the sim's trunk
            e: tuple(Step(app=p.app, data=p.data) for p in prios) for e, prios in outbound.items()
        }
        sim.agent("1001", answer_after=None)  # rings until the dial's own timeout
        sim.customer("4930100", answer_after=None)
        control = ctx.require(AriCallControl)
        await asyncio.wait_for(control.ari.connected.wait(), 30)  # type: ignore[attr-defined]
        resyncs = control.ari.connections  # type: ignore[attr-defined]
        dial = asyncio.create_task(control.dial(DialRequest(endpoint, timeout=4)))
        await asyncio.sleep(1.0)  # ringing
        for ws in list(sim.ari_ws):
            ws.abort()
        await until(lambda: control.ari.connections > resyncs)  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)  # the resync ran
        assert not dial.done(), dial  # before: resolved as answered, a leg nobody picked up
        with pytest.raises(DialFailed) as failed:
            await asyncio.wait_for(dial, 20)
        assert failed.value.reason in ("noanswer", "failed"), failed.value


async def test_a_channel_that_entered_on_the_new_connection_is_not_judged_by_the_snapshot() -> None:
    """The resync's snapshot (GET /channels, /applications) is taken after the socket came back; a caller whose
    StasisStart comes over the new socket after it is not in it, and was marked gone (the ACD then dropped its
    offer and the call: ``tests/api/test_phone_busy.py`` caught it)."""

    class Ari:
        connections = 1

        async def request(self, *args: object, **kwargs: object) -> None:
            return None

    ari = Ari()
    control = AriCallControl(ari, SystemClock())
    control.feed({"type": "StasisStart", "channel": {"id": "before"}, "args": ["did"]})
    ari.connections = 2  # the socket came back
    control.feed({"type": "StasisStart", "channel": {"id": "after"}, "args": ["did"]})
    before, after = control.table.channels["before"], control.table.channels["after"]
    await control.resync(live=set(), in_app=set(), connection=2)  # neither is in the snapshot
    assert before.gone.is_set()  # left while we were deaf
    assert not after.gone.is_set() and "after" in control.table.channels  # came after the snapshot
