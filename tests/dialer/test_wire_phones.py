"""The AMI desk offers calls only to phones the PBX can reach, over the wire: ``DeviceStateChange`` (a phone
unregisters: ``UNAVAILABLE``; registers again: ``NOT_INUSE``) and, after every AMI (re)connect,
``DeviceStateList`` — a phone that went while the link was down is known as soon as it is back."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import Outcome
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, one_live_answer, wire

pytestmark = pytest.mark.slow


async def test_unregistered_phones_are_offered_nothing_until_they_register_again() -> None:
    callees, contact, settings = one_live_answer("phones")
    async with wire(settings, [contact], callees, rendered=True) as w:
        gone = AGENTS[:-1]
        for a in gone:
            w.sim.agent(a, registered=False)
        assert await until(lambda: len(w.desk.agent_views(settings)) == 1, 5.0)
        await w.runner.start()
        assert await until(lambda: w.runner.counters["dialled"] == 1 and not w.runner._tasks, 30.0)
        [attempt] = await w.store.attempts("phones")
        w.sim.agent(gone[0])  # registers again
        assert await until(lambda: len(w.desk.agent_views(settings)) == 2, 5.0)
    assert attempt.outcome is Outcome.HUMAN and attempt.agent == AGENTS[-1]  # the one phone still there


async def test_a_phone_gone_while_the_ami_link_was_down_is_known_after_the_reconnect() -> None:
    callees, _, settings = one_live_answer("relink")
    async with wire(settings, [], callees) as w:
        assert len(w.desk.agent_views(settings)) == len(AGENTS)
        w.sim.drop_connections()
        w.sim.agent(AGENTS[0], registered=False)  # its DeviceStateChange reaches nobody
        assert await until(lambda: not w.desk.devices.up(f"PJSIP/{AGENTS[0]}"), 10.0)  # DeviceStateList
        assert len(w.desk.agent_views(settings)) == len(AGENTS) - 1
