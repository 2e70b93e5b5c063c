"""The abandon message and a machine's hang-up across an AMI outage, over the wire (the daemon's components
against the simulator, which cuts the AMI link alone). A live answer no agent can take is given the message by
``Setvar CTI_MESSAGE`` + ``Redirect`` to the abandon context; a machine, in a campaign with no machine message,
is hung up. When the link goes as the action is sent, the channel is still held in the daemon's ``Stasis``; once
the link is back the action is sent again (before, the lost action was given up: the customer waited in silence
until they hung up, the machine recorded silence on a line until its recording ended)."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.dialer.model import Outcome
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, cut_ami_in_action, number, one_live_answer, wire

OUTAGE = 6.0  # real s (the simulated clock runs 4 times faster)

pytestmark = pytest.mark.slow


async def test_the_message_cut_off_by_the_outage_is_sent_again_once_the_link_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callees, contact, settings = one_live_answer("abandon-cut")
    callees[number(0)] = Callee(reachable=True, answers=True, machine=False, ring=4.0, talk=160.0)
    # the first message: the link goes, Asterisk never read the action
    cut = cut_ami_in_action(monkeypatch, "setvar", OUTAGE, lambda msg: msg.get("variable") == "CTI_MESSAGE")
    async with wire(settings, [contact], callees, rendered=True) as w:
        heard: list[str] = []
        apps, read = w.sim.engine.dialplan.apps, w.sim.engine.dialplan.apps["read"]

        async def reading(ch: Any, data: str) -> None:  # the abandon context plays the message with Read()
            heard.append(ch.id)
            await read(ch, data)

        apps["read"] = reading
        await w.runner.start()
        assert await until(lambda: bool(w.runner.ringing), 10.0)
        for a in AGENTS:  # every phone goes while the callee's rings: the live answer finds nobody
            w.sim.agent(a, registered=False)
        assert await until(lambda: not any(w.desk.devices.up(f"PJSIP/{a}") for a in AGENTS), 5.0)
        assert await until(lambda: bool(cut), 15.0)
        assert await until(lambda: bool(heard), 20.0)  # the link is back 6 s later: the message goes again
        assert await until(lambda: not w.runner._tasks, 20.0)
        [attempt] = await w.store.attempts("abandon-cut")
    assert heard == [attempt.id], heard
    assert attempt.outcome is Outcome.ABANDONED and attempt.agent is None, attempt
    assert w.runner.counters["abandoned"] == 1 and w.runner.counters["connected"] == 0, w.runner.counters


async def test_a_machine_hang_up_cut_off_by_the_outage_is_sent_again_once_the_link_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callees, contact, settings = one_live_answer("machine-cut")
    callees[number(0)] = Callee(reachable=True, answers=True, machine=True, ring=1.0, talk=0.0)
    cut = cut_ami_in_action(monkeypatch, "hangup", OUTAGE)  # the first Hangup: Asterisk never read it
    async with wire(settings, [contact], callees, rendered=True) as w:
        w.sim.customer(number(0), answer_after=1.0, hangup_after=300.0)  # a machine recording for 5 minutes
        await w.runner.start()
        assert await until(lambda: bool(cut), 20.0)
        cut_at = w.sim.clock.monotonic()
        assert await until(lambda: not w.sim.engine.channels, 20.0), list(w.sim.engine.channels.values())
        gone = w.sim.clock.monotonic()  # the machine would record for 300 s
        assert await until(lambda: not w.runner._tasks, 10.0)
        [attempt] = await w.store.attempts("machine-cut")
    assert gone - cut_at < 4 * OUTAGE + 20.0, gone - cut_at  # hung up once the link was back, not by the machine
    assert attempt.outcome is Outcome.MACHINE, attempt
