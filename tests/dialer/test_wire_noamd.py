"""A campaign with ``amd: false`` over the wire, through the rendered dialplan: the attempt is originated into
``ctiserver-amd,noamd``, which enters the dialer straight away (``CTI_AMD_STATUS=NOTSURE``,
``CTI_AMD_CAUSE=DISABLED``) — ``AMD()`` never listens, so the callee is not left in silence for the analysis,
and answering machines reach agents like people do (the campaign chose so)."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow

N = 8



@pytest.mark.parametrize("amd", [False, True])
async def test_campaign_amd_setting_picks_the_dialplan_extension(amd: bool) -> None:
    callees = {
        number(i): Callee(reachable=True, answers=True, machine=i % 2 == 0, ring=0.5, talk=3.0) for i in range(N)
    }
    settings = CampaignSettings(
        name="noamd",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
        amd=amd,
    )
    contacts = [Contact(f"c{i}", "noamd", number(i), "Europe/Berlin") for i in range(N)]
    events: list[AmiEvent] = []
    async with wire(settings, contacts, callees, rendered=True, ami_filters=False) as w:
        w.ami.on_event("*", events.append)
        await w.runner.start()
        done = (ContactStatus.PENDING, ContactStatus.DIALLING)
        assert await until(
            lambda: w.runner.counters["dialled"] >= N
            and all(c.status not in done for c in w.store._contacts.values()),
            60.0,
        ), w.runner.live_stats()
        assert await until(lambda: not w.runner._tasks, 30.0)
        attempts = await w.store.attempts("noamd")
    assert len(attempts) == N
    for a in attempts:
        mine = [e for e in events if e.get("Uniqueid") == a.id]
        apps = [(e.get("Context"), e.get("Extension"), e.get("Application")) for e in mine if e.name == "Newexten"]
        ran_amd = any(app == "AMD" for _, _, app in apps)
        # the dialplan's own hold if Stasis fails: the two seconds, less AMD()'s 0.8 s of after-greeting silence
        grace = [e.get("Value") for e in mine if e.name == "VarSet" and e.get("Variable") == "CTI_GRACE"]
        assert grace == ["1.2" if amd else "2"], grace
        if amd:
            assert ran_amd and all(exten == "s" for ctx, exten, _ in apps if ctx == "ctiserver-amd")
            expected = Outcome.MACHINE if callees[a.number].machine else Outcome.HUMAN
            assert a.outcome in (expected, Outcome.ABANDONED) and a.amd_status in ("MACHINE", "HUMAN")
        else:
            assert not ran_amd, apps
            assert ("ctiserver-amd", "noamd", "NoOp") in apps
            # machines too: nobody analysed the greeting, every answer is a live one for the desk
            assert a.outcome in (Outcome.HUMAN, Outcome.ABANDONED)
            assert (a.amd_status, a.amd_cause) == ("NOTSURE", "DISABLED")
