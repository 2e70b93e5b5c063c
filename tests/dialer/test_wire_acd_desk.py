"""The dialer's ACD desk end to end over the wire: the whole daemon with ``dialer.desk: auto`` and the ACD
running, against the simulator (AMI + ARI on real sockets). A live answer of a dialler call runs ``AMD()`` in
the rendered ``ctiserver-amd`` context and enters ``Stasis(ctiserver,dialer,<attempt>,HUMAN,…)``; the dialer's
Stasis handler holds it, ``AcdDesk`` hands it to the ACD (``only_agent``, high priority), which rings the agent
over ARI, pops the contact on the agent's WebSocket, bridges, records and runs the wrap-up. A live answer that
finds no agent within 2 s is redirected out of Stasis to ``ctiserver-dialer-abandon`` and hears the message.

What happened is read from the PBX's side (an unfiltered AMI link of the test's own), from the agents'
WebSockets (agent tokens, the real API) and from the call tracker."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.service import AcdService
from ctiserver.calls.model import Role as LegRole
from ctiserver.calls.tracker import Tracker
from ctiserver.config import AmiConfig
from ctiserver.dialer.model import Contact, ContactStatus, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.events import Bus, DomainEvent
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.sim.model import ChanState
from tests.dialer.acd_daemon import AGENTS, OUTSIDER, QUEUE, Daemon, callees, daemon
from tests.dialer.waits import until
from tests.dialer.wire import at_the_carrier, number, window_around_now

pytestmark = pytest.mark.slow

N = 50
DNC_GLOBAL = [number(i) for i in (1, 12)]
DNC_CAMPAIGN = [number(i) for i in (23, 34)]
MESSAGE = "ctiserver/dialer-sorry"
CAMPAIGN = {
    "name": "spring",
    "mode": "progressive",
    "queue": QUEUE,
    "caller_id": "5550200",
    "caller_name": "Spring Sale",
    "ring_timeout": 15,
    "retry": {"max_attempts": 1},
    "abandon_message": [f"sound:{MESSAGE}"],
}



async def _read_ws(ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]]) -> None:
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        frame = json.loads(msg.data)
        if frame.get("op") == "event":
            into.append(frame["event"])


def _human_ringing(d: Daemon, w: DialerService) -> bool:
    """A dialler call to a live human is still ringing (its callee's phone not answered yet)."""
    model = callees(N)
    runner = w.runners["spring"]
    for attempt in runner.ringing:
        ch = d.sim.engine.channels.get(attempt)
        if ch is None:
            continue
        num = ch.name.split("/", 1)[1].split("@", 1)[0]
        c = model.get(num)
        callee_up = any(x.state is ChanState.UP for x in d.sim.engine.channels.values() if x.tags.get("dialled") == num)
        if c is not None and c.answers and not c.machine and not callee_up:
            return True
    return False


async def test_live_answers_reach_the_acd_agents_over_ari(tmp_path: Path) -> None:
    model = callees(N)
    campaign = {**CAMPAIGN, "windows": window_around_now().model_dump(mode="json")}
    contacts = [
        Contact(f"k{i}", "spring", number(i), "Europe/Berlin", name=f"Kunde {i}", fields={"offer": f"O-{i}"})
        for i in range(N)
    ]
    async with daemon(tmp_path, campaign, factor=6.0) as d, aiohttp.ClientSession() as http:
        for a in (*AGENTS, OUTSIDER):
            d.sim.agent(a, answer_after=0.4)
        at_the_carrier(d.sim, model)
        # the PBX's side, unfiltered (the daemon's own AMI link filters Newexten out)
        pbx: list[AmiEvent] = []
        spy = AmiClient(AmiConfig(port=d.sim.ami_port, event_filters=()), d.clock)
        spy.on_event("*", pbx.append)
        await spy.start()
        # each agent's console: the real API WebSocket with an agent token
        ws_events: dict[str, list[dict[str, Any]]] = {a: [] for a in (*AGENTS, OUTSIDER)}
        readers = []
        for a in ws_events:
            token = await d.agent_token(a)
            ws = await http.ws_connect(
                d.api.url.replace("http", "ws") + "/api/ws", headers={"Authorization": f"Bearer {token}"}
            )
            readers.append(asyncio.create_task(_read_ws(ws, ws_events[a])))
        bus_events: list[DomainEvent] = []
        bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
        bus.listeners.append(bus_events.append)  # type: ignore[attr-defined]
        dialer = d.ctx.require(DialerService)
        acd = d.ctx.require(AcdService)
        tracker = d.ctx.require(Tracker)
        await dialer.add_contacts("spring", contacts)
        await dialer.dnc_add(DNC_GLOBAL, reason="test")
        await dialer.dnc_add(DNC_CAMPAIGN, "spring", "test")
        await dialer.start("spring")
        runner = dialer.runners["spring"]

        # the agents go on a break while dialler calls to live humans ring: those get the message
        assert await until(lambda: runner.counters["connected"] >= 6 and _human_ringing(d, dialer), 30.0)
        for a in AGENTS:
            await acd.pause(a, "break")
        assert await until(lambda: runner.counters["abandoned"] >= 1, 20.0), runner.live_stats()
        for a in AGENTS:
            await acd.ready(a)

        assert await until(lambda: runner.state.value == "completed" and not runner._tasks, 60.0), runner.live_stats()
        attempts = await dialer.store.attempts("spring")
        final = await dialer.store.contacts("spring")
        stats = runner.live_stats()
        ledger = runner.ledger.totals(d.clock.now())
        # the agents come back ready after their last wrap-up; the PBX's side and the recordings settle
        assert await until(lambda: all(acd.agents.get(a).state is AgentState.READY for a in AGENTS), 20.0)
        assert await until(lambda: all(a.id in tracker.finished for a in attempts), 20.0)
        humans = [a for a in attempts if a.outcome is Outcome.HUMAN]

        def unrecorded() -> set[str]:
            return {a.id for a in humans} - {e.data["call_id"] for e in bus_events if e.type == "recording.ready"}

        assert await until(lambda: not unrecorded(), 20.0), [
            (e.type, e.subject, e.data)
            for e in bus_events
            if e.subject in unrecorded() or e.data.get("call_id") in unrecorded()
        ]
        await asyncio.sleep(0.5)  # the last WebSocket frames
        await spy.close()
        for r in readers:
            r.cancel()
    _check(attempts, final, stats, ledger, model, pbx, ws_events, bus_events, tracker)


def _check(
    attempts: list[Any],
    final: list[Contact],
    stats: dict[str, Any],
    ledger: tuple[int, int],
    model: dict[str, Any],
    pbx: list[AmiEvent],
    ws_events: dict[str, list[dict[str, Any]]],
    bus_events: list[DomainEvent],
    tracker: Tracker,
) -> None:
    # ---- nothing dialled twice, no DNC number dialled: what the PBX dialled through the trunk (the unreachable
    # numbers too: the carrier refuses them)
    dialled = Counter(
        (e.get("DialString") or "").removesuffix("@trunk")
        for e in pbx
        if e.name == "DialBegin" and (e.get("DestChannel") or "").startswith("PJSIP/trunk-")
    )
    assert max(dialled.values()) == 1
    assert not set(dialled) & set(DNC_GLOBAL + DNC_CAMPAIGN)
    assert {c.number for c in final if c.status is ContactStatus.DNC} == set(DNC_GLOBAL + DNC_CAMPAIGN)
    assert set(dialled) == set(model) - set(DNC_GLOBAL + DNC_CAMPAIGN)
    reachable = {n for n, c in model.items() if c.reachable} - set(DNC_GLOBAL + DNC_CAMPAIGN)
    assert len(attempts) == N - 4 and len({a.number for a in attempts}) == N - 4
    outcomes = Counter(a.outcome for a in attempts)
    assert outcomes[Outcome.UNKNOWN] == 0 and outcomes[Outcome.MACHINE] == sum(
        c.machine for n, c in model.items() if n in reachable
    )
    # ---- every live answer: bridged to a ready agent of the queue, or abandoned with the message (ledger)
    live = [a for a in attempts if a.outcome in (Outcome.HUMAN, Outcome.ABANDONED)]
    humans = [a for a in live if a.outcome is Outcome.HUMAN]
    abandoned = [a for a in live if a.outcome is Outcome.ABANDONED]
    assert all(model[a.number].answers and not model[a.number].machine for a in live)
    assert len(live) == sum(c.answers and not c.machine for n, c in model.items() if n in reachable)
    assert abandoned and len(humans) >= 25, outcomes
    # every connected call says when its agent's phone answered; one that answered past the two seconds after
    # the greeting (the ring and the ARI round trips, scaled ×6 on a loaded machine) is the law's abandoned call
    assert all(a.connected is not None and a.answered is not None and a.connected >= a.answered for a in humans)
    late = [a for a in humans if a.late]
    assert all(a.connected is not None and a.answered is not None and a.connected - a.answered > 1.2 for a in late)
    assert ledger == (len(live), len(abandoned) + len(late)) and stats["counters"]["abandoned"] == len(abandoned)
    assert stats["counters"].get("late", 0) == len(late)
    bridges: dict[str, set[str]] = {}
    for e in pbx:
        if e.name == "BridgeEnter":
            bridges.setdefault(e.get("BridgeUniqueid") or "", set()).add(e.get("Channel") or "")
    bridged_with: dict[str, set[str]] = {}
    names = {e.get("Uniqueid"): e.get("Channel") for e in pbx if e.name == "Newchannel"}
    for members in bridges.values():
        for m in members:
            bridged_with.setdefault(m, set()).update(members - {m})
    stasis = {
        e.get("Uniqueid"): e.get("AppData") for e in pbx if e.name == "Newexten" and e.get("Application") == "Stasis"
    }
    message = {
        e.get("Uniqueid")
        for e in pbx
        if e.name == "Newexten"
        and e.get("Context") == "ctiserver-dialer-abandon"
        and e.get("Application") == "Read"  # the message with its opt-out key (opt_out.py)
        and e.get("AppData") == f"CTI_OPTOUT,{MESSAGE},1,,1,3"
    }
    states: dict[str, list[dict[str, Any]]] = {}
    for e in bus_events:
        if e.type == "agent.state":
            states.setdefault(e.subject, []).append(e.data)
    # the ACD's own queue.left (the call tracker also says queue.left, with wait_seconds, when it closes a
    # segment whose call ended before the ACD's event reached it — on a loaded machine)
    waited = {
        e.subject: e.data["waited"]
        for e in bus_events
        if e.type == "queue.left" and e.data.get("queue") == QUEUE and "waited" in e.data
    }
    for a in live:
        assert (stasis[a.id] or "").startswith(f"ctiserver,dialer,{a.id},HUMAN,HUMAN-"), a  # held in Stasis
    for a in humans:
        # taken to its agent at once, not left waiting for an agent busy with another call (a talk and its
        # wrap-up take ≥ 6 s); the ring and the ARI round trips are in it, scaled ×6 on a loaded machine
        assert a.agent in AGENTS and waited[a.id] <= 5.0, (a, waited.get(a.id))
        partners = bridged_with.get(names[a.id] or "", set())
        assert any(p.startswith(f"PJSIP/{a.agent}-") for p in partners), (a, partners)
        assert a.id not in message
        mine = states[a.agent]
        first = next(i for i, s in enumerate(mine) if s["call_id"] == a.id)
        assert mine[first - 1]["state"] == "ready", mine[first - 1]  # offered to a ready agent
        seq = [s["state"] for s in mine[first:] if s["call_id"] == a.id]
        assert seq == ["reserved", "ringing", "on_call", "wrap_up"], seq  # and through the wrap-up
    for a in abandoned:
        assert a.agent is None and a.id in message and not bridged_with.get(names[a.id] or "")
    # ---- every connected call popped on its agent's WebSocket with the contact's data, on nobody else's
    for a in humans:
        ring = [e for e in ws_events[a.agent] if e["type"] == "agent.ringing" and e["subject"] == a.id]
        assert len(ring) == 1, (a, ring)
        attached = ring[0]["data"]["attached"]
        assert attached["contact_id"] == a.contact_id and attached["number"] == a.number
        assert attached["fields"] == {"offer": f"O-{a.contact_id[1:]}"} and attached["dialer_attempt"] == a.id
        pops = [e for e in ws_events[a.agent] if e["type"] == "screen.pop" and e["subject"] == a.id]
        assert [p["data"]["phase"] for p in pops] == ["ringing", "answered"], pops
        assert pops[0]["data"]["ivr"]["variables"]["contact_id"] == a.contact_id
        assert pops[0]["data"]["caller"]["name"] == f"Kunde {a.contact_id[1:]}"
        for other, events in ws_events.items():
            if other != a.agent:
                assert not [e for e in events if e["type"] in ("agent.ringing", "screen.pop") and e["subject"] == a.id]
    assert not [e for e in ws_events[OUTSIDER] if e["type"] in ("agent.ringing", "screen.pop")]
    # ---- each attempt is a call of the tracker: the attempt's channel (ChannelId = attempt id) its first leg,
    # the callee's leg answered or not as the outcome says, the agent's leg only when connected; the outcome
    # filed on the call by the dialer
    for a in attempts:
        call = tracker.finished[a.id]
        leg = call.first_leg()
        assert leg is not None and leg.uniqueid == a.id and leg.channel.startswith(f"Local/{a.number}@")
        assert call.data.get("dialer_outcome") == a.outcome.value, (a, call.data)
        assert call.data.get("dialer_campaign") == "spring" and call.data.get("dialer_contact") == a.contact_id
        callee = [x for x in call.legs.values() if x.channel.startswith("PJSIP/trunk-")]
        agents = [x for x in call.legs.values() if x.channel.startswith("PJSIP/100")]
        assert len(callee) == 1, call.snapshot()
        assert (a.outcome is Outcome.INVALID) == (not model[a.number].reachable), a  # 404 Not Found
        answered = a.outcome in (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)
        assert all((x.answered is not None) == answered and x.role is LegRole.OUTBOUND for x in callee), call.snapshot()
        # a connected call is its agent's stay in the queue, marked outbound: not an inbound caller's (docs/kpi.md)
        stays = [(s.queue, s.outcome, s.agent, s.outbound) for s in call.queues]
        assert stays == ([("sales", "answered", a.agent, True)] if a.outcome is Outcome.HUMAN else []), stays
        if a.outcome is Outcome.HUMAN:
            [agent_leg] = agents
            assert agent_leg.channel.startswith(f"PJSIP/{a.agent}-") and agent_leg.answered is not None
            assert agent_leg.role is LegRole.AGENT
            assert call.connected is not None
        else:
            assert not agents, call.snapshot()
    recorded = {e.data["call_id"] for e in bus_events if e.type == "recording.ready"}
    assert recorded == {a.id for a in humans}  # the queue's policy: always
