"""An opt-out pressed while the daemon's AMI link is down, over the wire (47 CFR 64.1200(a)(7)(i)(A): the opt-out
must put the number on the do-not-call list; a lost one is a call the law forbids later).

The callee hears the dialler's message (every agent busy) and presses the campaign's key while the simulator has
cut the AMI link: the ``UserEvent`` reaches nobody. The rendered dialplan wrote the opt-out to Asterisk's database
first (``Set(DB(ctiserver_optout/<attempt>)=…)``); after the reconnect the daemon reads it (``DBGetTree``), puts
the number on the campaign's list, closes the contact and deletes the entry (``DBDel``)."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
    PacingMode,
    RetryPolicy,
)
from ctiserver.dialer.opt_out import FAMILY, OptOuts
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import GLOBAL
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, cut_ami_at, number, window_around_now, wire

pytestmark = pytest.mark.slow

KEY_AT = 5.0  # s after the answer: AMD ~1.3 s, 1.2 s for an agent, the 1-s message, then the key within the wait


async def test_an_opt_out_pressed_during_an_ami_outage_reaches_the_list() -> None:
    callees = {
        number(0): Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=20.0, keys=((KEY_AT, "9"),))
    }
    settings = CampaignSettings(
        name="cut",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=2, abandoned=4.0),
    )
    contacts = [Contact("c0", "cut", number(0), "Europe/Berlin")]
    async with wire(settings, contacts, callees, rendered=True, ami_filters=False) as w:
        heard: list[AmiEvent] = []
        w.ami.on_event("UserEvent", heard.append)
        published = w.bus.subscribe("dialer.opt_out")
        cut = cut_ami_at(w, "read", 2.0)  # as the message begins: the key comes 2.5 s (simulated) later
        await w.runner.start()
        assert await until(lambda: w.runner.ringing, 15.0)
        taken = [await w.desk.reserve(settings, 0.0, call_id=f"other-{i}") for i in range(len(AGENTS))]
        assert None not in taken  # every agent busy: the callee hears the message
        assert await until(lambda: cut, 20.0), w.runner.live_stats()
        db = w.sim.engine.dialplan.astdb
        assert await until(lambda: db.entries, 5.0)  # the dialplan kept it
        assert await until(lambda: w.runner.counters["opted_out"] == 1, 15.0), w.runner.live_stats()
        assert await until(lambda: not db.entries, 5.0), db.entries  # applied, then deleted
        event = await published.get()
        on_list = await w.store.dnc_contains(number(0), "cut")
        contact = await w.store.get_contact("cut", "c0")
    assert not heard  # the UserEvent went out while the link was down: the database carried the opt-out
    assert on_list and contact is not None and contact.status is ContactStatus.DNC
    assert event.subject == "c0" and event.data["number"] == number(0) and event.data["list"] == "cut"


async def test_opt_outs_kept_before_the_daemon_started_are_applied_at_once() -> None:
    """The PBX's database keeps opt-outs from before a (re)start; the first AMI login happens before the dialler
    starts, so the login's sweep is not the dialler's: it sweeps at once, not ``SWEEP_EVERY`` (60) s later."""
    settings = CampaignSettings(name="kept", mode=PacingMode.PROGRESSIVE, windows=window_around_now())
    contacts = [Contact("c0", "kept", number(0), "Europe/Berlin")]
    async with wire(settings, contacts, {}) as w:
        db = w.sim.engine.dialplan.astdb
        db.put(FAMILY, "attempt-before", "kept|c0|9")
        opt_outs = OptOuts(w.ctx.require(DialerService), w.ami)  # as the component makes it, the link being up
        try:
            assert await until(lambda: not db.entries, 5.0), db.entries  # 60 s simulated would be 15 s here
        finally:
            await opt_outs.close()
        on_list = await w.store.dnc_contains(number(0), "kept")
    # (the daemon's own OptOuts may have read the entry too, if its first sweep was still on its way)
    assert on_list and w.runner.counters["opted_out"] >= 1


async def test_an_opt_out_outliving_its_campaign_puts_the_number_on_the_global_list() -> None:
    """The callee pressed the key while the link was down; the campaign was deleted, with its contacts, before the
    daemon read the PBX's database. The attempt stays as history: its number goes on the global list. An entry
    whose attempt is not known either is left in the PBX's database."""
    settings = CampaignSettings(name="kept", mode=PacingMode.PROGRESSIVE, windows=window_around_now())
    async with wire(settings, [], {}) as w:
        service = w.ctx.require(DialerService)
        await service.create(CampaignSettings(name="gone", mode=PacingMode.PROGRESSIVE, windows=window_around_now()))
        await service.add_contacts("gone", [Contact("c7", "gone", number(7), "Europe/Berlin")])
        attempt = AttemptRecord("attempt-gone", "gone", "c7", number(7), 0.0, Outcome.ABANDONED, 30.0)
        await w.store.record_attempt(attempt)
        await service.delete("gone")
        published = w.bus.subscribe("dialer.opt_out")
        db = w.sim.engine.dialplan.astdb
        db.put(FAMILY, "attempt-gone", "gone|c7|9")
        db.put(FAMILY, "attempt-never", "gone|c8|9")
        opt_outs = OptOuts(service, w.ami)
        try:
            assert await until(lambda: list(db.entries) == [f"/{FAMILY}/attempt-never"], 5.0), db.entries
        finally:
            await opt_outs.close()
        event = await published.get()
        assert await w.store.dnc_contains(number(7), GLOBAL)
    assert event.data["number"] == number(7) and event.data["list"] == "global", event.data
