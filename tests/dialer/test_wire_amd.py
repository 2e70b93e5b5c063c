"""AMD end to end over the wire, through the dialplan that ``ctiserver dialplan render`` writes for Asterisk:
``Originate Local/<number>@ctiserver-dialer/n`` into ``ctiserver-amd,s``; ``;2`` dials the callee, ``;1`` runs
the simulator's ``AMD()`` once answered. The dialer's verdict must come from the ``AMDSTATUS``/``AMDCAUSE``
``VarSet`` events of the ``;1`` channel (the attempt's ChannelId), which the test reads off the AMI too.

Then, as on Asterisk, the answered ``;1`` enters ``Stasis(ctiserver,dialer,<attempt>,<status>,<cause>)``: the
daemon's ARI application (a real events WebSocket to the simulator) gets the ``StasisStart``, its router hands
it to the dialer's handler, which holds the call until the AMI desk takes it out of Stasis — a live answer by
``Redirect`` to its agent's extension (bridged with the agent's phone), a machine by ``Redirect`` to
``ctiserver-dialer-abandon`` where it hears the campaign's machine message. Each leaves the application
(``StasisEnd``) and nothing is left behind on the PBX."""

from __future__ import annotations

from collections import Counter

import pytest

from ctiserver.control.router import StasisRouter
from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
    PacingMode,
    RetryPolicy,
)
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.sim.amd import verdict
from tests.dialer.waits import until
from tests.dialer.wire import Callee, Wire, number, window_around_now, wire

pytestmark = pytest.mark.slow

N = 24
MACHINE_MESSAGE = "ctiserver/dialer-machine"


def _callees() -> dict[str, Callee]:
    """Every 3rd callee is an answering machine, every 8th never answers, #5 and #13 hang up while AMD is still
    listening (their hang-up comes before the 1.3 s a human needs to be recognised)."""
    out = {}
    for i in range(N):
        answers = i % 8 != 7
        out[number(i)] = Callee(
            reachable=True,
            answers=answers,
            machine=answers and i % 3 == 0,
            ring=0.5 + (i % 4) * 0.5,
            talk=0.4 if i in (5, 13) else 4.0,
        )
    return out



async def test_amd_verdicts_come_from_the_rendered_dialplan_over_ami() -> None:
    callees = _callees()
    settings = CampaignSettings(
        name="amd",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
        caller_id="5550200",
        machine_message=(f"sound:{MACHINE_MESSAGE}",),
    )
    contacts = [Contact(f"c{i}", "amd", number(i), "Europe/Berlin", name=f"K{i}") for i in range(N)]
    events: list[AmiEvent] = []
    # every AMI event: the test checks which dialplan application ran (Newexten), which the daemon filters out
    async with wire(settings, contacts, callees, rendered=True, ami_filters=False) as w:
        w.ami.on_event("*", events.append)
        await w.runner.start()
        done = (ContactStatus.PENDING, ContactStatus.DIALLING)
        assert await until(
            lambda: (
                w.runner.counters["dialled"] >= N
                and not w.runner.ringing
                and all(c.status not in done for c in w.store._contacts.values())
            ),
            90.0,
        ), w.runner.live_stats()
        assert await until(lambda: not w.runner._tasks, 30.0)  # every attempt has ended
        attempts = await w.store.attempts("amd")
        # nothing left behind: every call out of Stasis and hung up, every dialer handler of the daemon done
        assert await until(lambda: not w.sim.engine.channels, 30.0), list(w.sim.engine.channels.values())
        assert await until(lambda: w.ctx.require(StasisRouter).active == 0, 10.0)
        _check_stasis(w, attempts, events)
    assert len(attempts) == N
    by_uid: dict[str, list[AmiEvent]] = {}
    for ev in events:
        by_uid.setdefault(ev.get("Uniqueid") or "", []).append(ev)
    human_status, human_cause, _ = verdict("human", "2500,1500,800,5000,100,50,2,256,5000")
    machine_status, machine_cause, _ = verdict("machine", "2500,1500,800,5000,100,50,2,256,5000")
    assert (human_status, human_cause) == ("HUMAN", "HUMAN-800-800")
    assert machine_status == "MACHINE" and machine_cause.startswith("LONGGREETING-")
    seen: Counter[str] = Counter()
    for a in attempts:
        c = callees[a.number]
        mine = by_uid.get(a.id, [])
        # the Local pair: ;1 is our ChannelId and runs the AMD context, ;2 dials the callee
        names = {e.get("Channel") for e in mine if e.name == "Newchannel"}
        assert len(names) == 1 and next(iter(names)).startswith(f"Local/{a.number}@ctiserver-dialer-")
        assert next(iter(names)).endswith(";1")
        assert any(e.name == "Newchannel" for e in by_uid.get(f"{a.id};2", []))
        amd_ran = [e for e in mine if e.name == "Newexten" and e.get("Application") == "AMD"]
        amd_vars = [(e.get("Variable"), e.get("Value")) for e in mine if e.name == "VarSet"]
        amd_vars = [v for v in amd_vars if v[0] in ("AMDSTATUS", "AMDCAUSE")]
        if not c.answers:
            assert a.outcome is Outcome.NOANSWER and not amd_ran and not amd_vars
            seen["noanswer"] += 1
            continue
        assert len(amd_ran) == 1 and amd_ran[0].get("Context") == "ctiserver-amd"
        if c.talk < 1.0 and not c.machine:  # gone during the analysis
            assert amd_vars == [("AMDSTATUS", "HANGUP"), ("AMDCAUSE", "")]
            hangup = next(i for i, e in enumerate(mine) if e.name == "Hangup")
            assert (
                max(i for i, e in enumerate(mine) if e.name == "VarSet" and e.get("Variable") == "AMDSTATUS") < hangup
            )
            assert a.outcome is Outcome.NOANSWER and a.amd_status == "HANGUP"
            seen["hangup"] += 1
        elif c.machine:
            assert amd_vars == [("AMDSTATUS", "MACHINE"), ("AMDCAUSE", machine_cause)]
            assert (a.outcome, a.amd_status, a.amd_cause) == (Outcome.MACHINE, "MACHINE", machine_cause)
            seen["machine"] += 1
        else:
            assert amd_vars == [("AMDSTATUS", "HUMAN"), ("AMDCAUSE", human_cause)]
            assert a.outcome in (Outcome.HUMAN, Outcome.ABANDONED)
            assert (a.amd_status, a.amd_cause) == ("HUMAN", human_cause)
            # the rendered dialplan copied the verdict for the Stasis arguments
            copied = {e.get("Variable"): e.get("Value") for e in mine if e.name == "VarSet"}
            assert copied["CTI_AMD_STATUS"] == "HUMAN" and copied["CTI_AMD_CAUSE"] == human_cause
            seen["human"] += 1
    assert seen["machine"] >= 6 and seen["human"] >= 8 and seen["noanswer"] == 3 and seen["hangup"] >= 1


def _check_stasis(w: Wire, attempts: list[AttemptRecord], events: list[AmiEvent]) -> None:
    """Every answer AMD did not see hang up entered Stasis once with the verdict as arguments, reached the
    daemon's dialer handler, and left the application as its outcome says."""
    router = w.ctx.require(StasisRouter)
    assert router._handlers.get("dialer") is not None and router.failures == 0
    assert {e["channel"]["id"] for e in w.ari} == {i.channel_id for i, _ in w.routed if i.kind == "dialer"}
    entered = 0
    for a in attempts:
        mine = [e for e in events if e.get("Uniqueid") == a.id]
        starts = [e for e in w.stasis_of(a.id) if e["type"] == "StasisStart"]
        if a.amd_status in (None, "HANGUP"):  # never answered, or gone during the analysis: no Stasis
            assert not starts and not any(e.get("Application") == "Stasis" for e in mine), a
            continue
        entered += 1
        # the rendered dialplan entered Stasis after AMD() and the copies of its verdict
        order = [(e.name, e.get("Variable") or e.get("Application")) for e in mine if e.name in ("VarSet", "Newexten")]
        assert order.index(("VarSet", "CTI_AMD_CAUSE")) < order.index(("Newexten", "Stasis")), order
        # ... and the daemon's application got it with the verdict as arguments, routed to the dialer's handler
        [start] = starts
        assert start["args"] == ["dialer", a.id, a.amd_status, a.amd_cause], start["args"]
        assert start["channel"]["dialplan"]["context"] == "ctiserver-amd"
        [(incoming, handled)] = [(i, h) for i, h in w.routed if i.channel_id == a.id]
        assert handled and incoming.args == ("dialer", a.id, a.amd_status, a.amd_cause)
        # it left the application once, before the PBX took it on: to its agent or to the machine message
        assert [e["type"] for e in w.stasis_of(a.id)] == ["StasisStart", "StasisEnd"]
        names = [e.name for e in mine]
        status = [i for i, e in enumerate(mine) if e.name == "VarSet" and e.get("Variable") == "STASISSTATUS"]
        assert [mine[i].get("Value") for i in status] == ["", "SUCCESS"]  # set as it enters, then as it leaves
        left = status[-1]
        steps = [e for e in mine[left:] if e.name == "Newexten"]
        after = [(e.get("Context"), e.get("Application"), e.get("AppData")) for e in steps]
        if a.outcome is Outcome.HUMAN:
            assert a.agent is not None and ("from-agents", "Dial", f"PJSIP/{a.agent},30") in after, after
            agent_uid = next(
                e.get("DestUniqueid") for e in mine[left:] if e.name == "DialBegin" and e.get("DestChannel")
            )
            bridges = {e.get("BridgeUniqueid") for e in mine[left:] if e.name == "BridgeEnter"}
            assert any(
                e.name == "BridgeEnter" and e.get("Uniqueid") == agent_uid and e.get("BridgeUniqueid") in bridges
                for e in events
            ), a
        elif a.outcome is Outcome.MACHINE:
            # played with the opt-out key too: a person AMD took for a machine may opt out (opt_out.py)
            assert ("ctiserver-dialer-abandon", "Read", f"CTI_OPTOUT,{MACHINE_MESSAGE},1,,1,3") in after, after
            assert "BridgeEnter" not in names[left:]
        assert names[-1] == "Hangup", names
    assert entered == sum(1 for a in attempts if a.outcome in (Outcome.HUMAN, Outcome.MACHINE, Outcome.ABANDONED))
