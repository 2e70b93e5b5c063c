"""The AMI desk offers calls only to phones the PBX can reach, over the wire: ``DeviceStateChange`` (a phone
unregisters: ``UNAVAILABLE``; registers again: ``NOT_INUSE``) and, after every AMI (re)connect,
``DeviceStateList`` — a phone that went while the link was down is known as soon as it is back. A phone that
is there but fails (rings out) rests its seat, longer after each failure in a row."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import Contact, Outcome
from ctiserver.sim.config import Step
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, number, one_live_answer, wire

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


async def test_a_phone_that_keeps_ringing_out_rests_its_seat_longer_each_time() -> None:
    callees, first, settings = one_live_answer("rest")
    second = Contact("c1", "rest", number(1), "Europe/Berlin")
    callees[number(1)] = callees[first.number]
    async with wire(settings, [first, second], callees, wrapup=1.0, factor=1.0, rendered=True) as w:
        plan = w.sim.engine.config.dialplan["from-agents"]
        plan["_100X"] = (Step(app="Dial", data="PJSIP/${EXTEN},1"), Step(app="Hangup"))  # rings 1 s, gives up
        for a in AGENTS[1:]:
            w.sim.agent(a, registered=False)
        w.sim.agent(AGENTS[0], answer_after=None)  # the one seat left: its phone is there, nobody picks up
        assert await until(lambda: len(w.desk.agent_views(settings)) == 1, 5.0)
        await w.runner.start()
        assert await until(lambda: w.runner.counters["dialled"] == 2 and not w.runner._tasks, 60.0)
        seat = w.desk._seats[AGENTS[0]]
        attempts = await w.store.attempts("rest")
    assert [a.outcome for a in attempts] == [Outcome.ABANDONED, Outcome.ABANDONED]
    assert seat.failures == 2 and seat.until - seat.since == 2.0  # wrapup, then twice that
