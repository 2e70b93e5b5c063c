"""The opt-out key on the dialler's message, over the wire (47 CFR 64.1200(a)(7)(i)(A) and (b)(3): the message
an abandoned live answer hears offers an automated key-press opt-out that puts the number on the do-not-call
list and ends the call at once).

The simulator runs the rendered ``ctiserver-dialer-abandon`` context: ``Read()`` plays the message and reads
one key; the callee behind the trunk presses it, the digit crosses ``Dial``'s bridge and the Local pair to the
``;1`` channel that runs ``Read()``, and the campaign's key raises ``UserEvent(CtiDialerOptOut,…)``, which the
daemon's AMI link hears. Every agent is busy when the three callees answer: each hears the message. One presses
9 (the key), one 5, one nothing; the first is on the campaign's do-not-call list and never dialled again, the
others are called back once the agents are free."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.store import GLOBAL
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow

MESSAGE = "ctiserver/dialer-sorry"
KEY_AT = 3.5  # s after the answer: AMD's ~1.3 s, the 1.2 s left for an agent, then the message (1 s) plays


def _callee(keys: tuple[tuple[float, str], ...]) -> Callee:
    return Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=12.0, keys=keys)


def _settings(name: str, **extra: Any) -> CampaignSettings:
    return CampaignSettings(
        name=name,
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=2, abandoned=4.0),
        **extra,
    )


def _watch(w: Any, names: tuple[str, ...]) -> list[tuple[float, AmiEvent]]:
    seen: list[tuple[float, AmiEvent]] = []
    for name in names:
        w.ami.on_event(name, lambda e: seen.append((w.runner.clock.now(), e)))
    return seen


async def test_the_key_puts_the_number_on_the_campaigns_list_and_ends_the_call() -> None:
    callees = {
        number(0): _callee(((KEY_AT, "9"),)),
        number(1): _callee(((KEY_AT, "5"),)),
        number(2): _callee(()),
    }
    contacts = [Contact(f"c{i}", "opt", number(i), "Europe/Berlin") for i in range(3)]
    async with wire(_settings("opt"), contacts, callees, rendered=True, ami_filters=False) as w:
        seen = _watch(w, ("UserEvent", "Newexten", "DTMFEnd", "Hangup"))
        published = w.bus.subscribe("dialer.opt_out")
        await w.runner.start()
        assert await until(lambda: len(w.runner.ringing) == 3, 15.0), w.runner.live_stats()
        taken = [await w.desk.reserve(w.runner.settings, 0.0, call_id=f"other-{i}") for i in range(len(AGENTS))]
        assert None not in taken  # every agent busy when they answer: each hears the message
        assert await until(lambda: w.runner.counters["abandoned"] == 3, 20.0), w.runner.live_stats()
        assert await until(lambda: w.runner.counters["opted_out"] == 1, 15.0), w.runner.live_stats()
        # the dialplan kept it in Asterisk's database too (for an event nobody hears): deleted once applied
        assert await until(lambda: not w.sim.engine.dialplan.astdb.entries, 5.0), w.sim.engine.dialplan.astdb.entries
        for agent in taken:
            assert agent is not None
            await w.desk.release(agent)
        assert await until(lambda: len(w.originated) == 5 and not w.runner._tasks, 40.0), w.originated
        event = await published.get()
        contact = await w.store.get_contact("opt", "c0")
        on_list = [await w.store.dnc_contains(number(i), "opt") for i in range(3)]
        on_global = await w.store.dnc_contains(number(0), "other-campaign")
        attempts = await w.store.attempts("opt")
    assert on_list == [True, False, False] and not on_global  # the campaign's list, not the global one
    assert contact is not None and contact.status is ContactStatus.DNC
    assert [len(w.originates_of(number(i))) for i in range(3)] == [1, 2, 2]  # never dialled again
    assert sorted(a.outcome.value for a in attempts if a.number == number(0)) == [Outcome.ABANDONED.value]
    assert event.subject == "c0"
    assert {k: event.data[k] for k in ("campaign", "number", "list")} == {
        "campaign": "opt",
        "number": number(0),
        "list": "opt",
    }
    [(_, user)] = [(t, e) for t, e in seen if e.name == "UserEvent"]
    attempt = event.data["attempt"]
    assert (user.get("UserEvent"), user.get("Uniqueid"), user.get("Campaign"), user.get("Key")) == (
        "CtiDialerOptOut",
        attempt,
        "opt",
        "9",
    )
    # the message is played by Read() with the campaign's key and wait; the key ended the call at once
    reads = [e for _, e in seen if e.name == "Newexten" and e.get("Application") == "Read"]
    assert {e.get("AppData") for e in reads} == {f"CTI_OPTOUT,{MESSAGE},1,,1,3"} and len(reads) == 3
    [key_read] = [t for t, e in seen if e.name == "DTMFEnd" and e.get("Uniqueid") == attempt]
    [gone] = [t for t, e in seen if e.name == "Hangup" and e.get("Uniqueid") == attempt]
    assert gone - key_read < 0.5
    # the one who pressed nothing heard the message and the 3-s wait for a key, then the call ended
    silent = next(a.id for a in attempts if a.number == number(2) and a.outcome is Outcome.ABANDONED)
    [read_at] = [
        t for t, e in seen if e.name == "Newexten" and e.get("Uniqueid") == silent and e.get("Application") == "Read"
    ]
    [silent_gone] = [t for t, e in seen if e.name == "Hangup" and e.get("Uniqueid") == silent]
    assert silent_gone - read_at == pytest.approx(1.0 + 3.0, abs=0.6)


@pytest.mark.parametrize("key", ["", "*"])
async def test_no_key_plays_the_message_and_the_star_key_to_the_global_list(key: str) -> None:
    callees = {number(0): _callee(((KEY_AT, "*"),))}
    contacts = [Contact("c0", "opt2", number(0), "Europe/Berlin")]
    settings = _settings("opt2", opt_out_key=key, opt_out_list="global", opt_out_wait=1.5)
    async with wire(settings, contacts, callees, rendered=True, ami_filters=False) as w:
        seen = _watch(w, ("UserEvent", "Newexten"))
        await w.runner.start()
        assert await until(lambda: w.runner.ringing, 15.0)
        taken = [await w.desk.reserve(w.runner.settings, 0.0, call_id=f"other-{i}") for i in range(len(AGENTS))]
        assert await until(lambda: w.runner.counters["abandoned"] == 1, 20.0), w.runner.live_stats()
        assert await until(lambda: not w.runner._tasks and not w.sim.engine.channels, 20.0)
        if key:
            assert await until(lambda: w.runner.counters["opted_out"] == 1, 10.0), w.runner.live_stats()
        for agent in taken:
            assert agent is not None
            await w.desk.release(agent)
        on_campaign = await w.store.dnc_list("opt2")
        on_global = await w.store.dnc_list(GLOBAL)
        contact = await w.store.get_contact("opt2", "c0")
    steps = [
        (e.get("Application"), e.get("AppData"))
        for _, e in seen
        if e.name == "Newexten" and e.get("Context") == "ctiserver-dialer-abandon"
    ]
    users = [e for _, e in seen if e.name == "UserEvent"]
    assert on_campaign == [] and contact is not None
    if key == "":  # no opt-out: the message by Playback, the key does nothing
        assert ("Playback", MESSAGE) in steps and not [s for s in steps if s[0] == "Read"]
        assert not users and on_global == [] and w.runner.counters["opted_out"] == 0
        assert contact.status is not ContactStatus.DNC
    else:  # the campaign's key is *, its opt-outs go to the global list
        assert ("Read", f"CTI_OPTOUT,{MESSAGE},1,,1,1.5") in steps
        assert [u.get("Key") for u in users] == ["*"] and on_global == [number(0)]
        assert contact.status is ContactStatus.DNC
