"""AMI ``Filter``: the simulator's session filters follow Asterisk 22's rules, and ``AmiClient`` installs
``event_filters`` after every login, so the CEL records and variables ctiserver never reads are not sent."""

from __future__ import annotations

import re

import pytest

from ctiserver.config import AmiConfig
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.sim.ami_filter import parse, passes
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.waiting import until

CEL_CHAN_START = [("Event", "CEL"), ("EventName", "CHAN_START"), ("Channel", "PJSIP/1001-1")]
CEL_HANGUP = [("Event", "CEL"), ("EventName", "HANGUP"), ("Channel", "PJSIP/1001-1")]
VARSET = [("Event", "VarSet"), ("Channel", "PJSIP/1001-1"), ("Variable", "BRIDGEPEER"), ("Value", "x")]
VARSET_CTI = [("Event", "VarSet"), ("Channel", "PJSIP/1001-1"), ("Variable", "CTI_DATA_ACCOUNT"), ("Value", "7")]
VARSET_AMD = [("Event", "VarSet"), ("Channel", "Local/1@d-1;1"), ("Variable", "AMDSTATUS"), ("Value", "HUMAN")]
NEWCHANNEL = [("Event", "Newchannel"), ("Channel", "PJSIP/1001-1")]
NEWEXTEN = [("Event", "Newexten"), ("Channel", "PJSIP/1001-1"), ("Application", "Stasis")]
CDR = [("Event", "Cdr"), ("Source", "5550100")]


def test_filter_rules() -> None:
    defaults = [parse(c, f) for c, f in AmiConfig().event_filters]
    events = (CEL_CHAN_START, CEL_HANGUP, VARSET, VARSET_CTI, VARSET_AMD, NEWCHANNEL, NEWEXTEN, CDR)
    assert [passes(defaults, e) for e in events] == [False, True, False, True, True, True, False, False]
    assert passes([], CEL_CHAN_START)  # no filter: everything
    legacy_out = parse(None, "!Event: CEL")
    assert legacy_out.exclude and not passes([legacy_out], CEL_HANGUP) and passes([legacy_out], NEWCHANNEL)
    only_cel = parse("action(include),name(CEL)", "")  # an empty regex matches any CEL event
    assert passes([only_cel], CEL_HANGUP) and not passes([only_cel], NEWCHANNEL)  # includes only: matching ones
    both = [only_cel, parse("action(exclude),name(CEL),header(EventName),exact", "CHAN_START")]
    assert passes(both, CEL_HANGUP) and not passes(both, CEL_CHAN_START) and not passes(both, NEWCHANNEL)
    for method, pattern, expected in (
        ("startsWith", "CTI_", True), ("endsWith", "ACCOUNT", True), ("contains", "DATA", True),
        ("exact", "CTI_DATA", False), ("none", "ignored", True),
    ):
        f = parse(f"action(include),name(VarSet),header(Variable),{method}", pattern)
        assert f.matches(VARSET_CTI) is expected, method
    assert not parse("header(NoSuchHeader)", ".").matches(NEWCHANNEL)
    for criteria, pattern in (("action(drop)", "x"), ("colour(red)", "x"), (None, "(unclosed")):
        with pytest.raises((ValueError, re.error)):
            parse(criteria, pattern)


@pytest.mark.parametrize("filtered", [True, False])
async def test_the_client_filters_after_login_over_the_wire(filtered: bool) -> None:
    async with Simulator(SimConfig()) as sim:
        cfg = AmiConfig(port=sim.ami_port) if filtered else AmiConfig(port=sim.ami_port, event_filters=())
        client = AmiClient(cfg)
        seen: list[AmiEvent] = []
        client.on_event("*", seen.append)
        await client.start()
        try:
            await until(client.connected.is_set, 10)
            sim.agent("1001", answer_after=0.2)
            call = sim.place_call(from_number="5550100", to="200", hangup_after=1.0)  # app_queue: no Stasis
            await until(call.done.is_set, 20)
            await until(lambda: any(e.name == "Hangup" for e in seen), 10)
            await until(lambda: any(e.name == "CEL" and e.get("EventName") == "HANGUP" for e in seen), 10)
        finally:
            await client.close()
    cel = {e.get("EventName") for e in seen if e.name == "CEL"}
    variables = {e.get("Variable") or "" for e in seen if e.name == "VarSet"}
    names = {e.name for e in seen}
    assert {"Newchannel", "Hangup", "HangupRequest"} <= names
    assert ("Newexten" in names) is not filtered and ("Cdr" in names) is not filtered
    if filtered:
        assert cel == {"HANGUP"}
        assert all(v.startswith(("CTI_", "AMD")) for v in variables)
    else:
        assert len(cel) > 1 and any(not v.startswith(("CTI_", "AMD")) for v in variables)
