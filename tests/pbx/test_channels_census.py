"""``live_channels`` against the simulator's AMI server over a real socket: the reconciling askers (``share``) that
come while a ``CoreShowChannels`` of theirs is under way share it (one action, one answer for all), the next ask
sends a new one, an asker after an action of its own sends its own, and a refusal reaches every sharing asker
(``ctiserver/pbx/ami/channels.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ctiserver.config import AmiConfig
from ctiserver.pbx.ami.channels import live_channels
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiActionError
from ctiserver.sim import ami_actions
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.waiting import until


@pytest.fixture
async def linked() -> AsyncIterator[tuple[Simulator, AmiClient, list[str]]]:
    """The simulator, a client logged in to its AMI, and the names of the channels listed per action received."""
    real = ami_actions.HANDLERS["coreshowchannels"]
    asked: list[str] = []

    async def counted(s: Any, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]) -> None:
        asked.append(aid or "")
        await asyncio.sleep(0.2)  # a PBX with many channels takes a while: the other askers come meanwhile
        await real(s, aid, msg, headers)

    ami_actions.HANDLERS["coreshowchannels"] = counted
    try:
        async with Simulator(SimConfig()) as sim:
            async with AmiClient(AmiConfig(port=sim.ami_port, action_timeout=10.0)) as ami:
                await until(ami.connected.is_set, 10.0)
                yield sim, ami, asked
    finally:
        ami_actions.HANDLERS["coreshowchannels"] = real


async def test_askers_at_once_share_one_action_and_the_next_ask_sends_another(
    linked: tuple[Simulator, AmiClient, list[str]],
) -> None:
    sim, ami, asked = linked
    sim.place_call(from_number="5550100", from_name="Иван Петров", to="607", hangup_after=30.0)  # Wait(60)
    await until(lambda: bool(sim.engine.channels), 10.0)
    answers = await asyncio.gather(*(live_channels(ami, timeout=t, share=True) for t in (10.0, 30.0, 40.0, 5.0)))
    assert len(asked) == 1  # four askers (the tracker, the recordings, the dialler's lines and desk), one action
    ids = set(sim.engine.channels)
    assert all(set(a) == ids for a in answers) and ids, (answers, ids)
    assert all(a is answers[0] for a in answers)
    again = await live_channels(ami, share=True)
    assert len(asked) == 2 and set(again) == ids  # once it is answered, a new ask is a new action


async def test_an_asker_after_its_own_action_does_not_join_a_list_asked_for_before(
    linked: tuple[Simulator, AmiClient, list[str]],
) -> None:
    """The desk's ``Redirect`` timed out: did it run? A list asked for before it would show the channel where it was."""
    _sim, ami, asked = linked
    reconciling = asyncio.ensure_future(live_channels(ami, share=True))
    await asyncio.sleep(0.05)  # under way at the PBX
    own = await live_channels(ami)
    shared = await reconciling
    assert len(asked) == 2 and own is not shared  # its own action, sent after the one under way


async def test_an_asker_that_gives_up_does_not_cancel_the_others(
    linked: tuple[Simulator, AmiClient, list[str]],
) -> None:
    _sim, ami, asked = linked
    impatient = asyncio.ensure_future(live_channels(ami, share=True))
    patient = asyncio.ensure_future(live_channels(ami, share=True))
    await asyncio.sleep(0.05)
    impatient.cancel()
    assert isinstance(await patient, dict) and len(asked) == 1
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_a_refusal_reaches_every_asker(linked: tuple[Simulator, AmiClient, list[str]]) -> None:
    _sim, ami, asked = linked
    real = ami_actions.HANDLERS["coreshowchannels"]

    async def refused(s: Any, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]) -> None:
        asked.append(aid or "")
        await asyncio.sleep(0.2)
        s.respond(aid, "Error", "Permission denied")

    ami_actions.HANDLERS["coreshowchannels"] = refused
    try:
        results = await asyncio.gather(
            live_channels(ami, share=True), live_channels(ami, share=True), return_exceptions=True
        )
    finally:
        ami_actions.HANDLERS["coreshowchannels"] = real
    assert len(asked) == 1 and all(isinstance(r, AmiActionError) for r in results), results
