"""The whole daemon after a killed run: contacts it left ``dialling`` are judged by their calls, which the call
tracker takes back from the checkpoints the killed run saved and ends at its first look at the PBX. A call that
had reached an agent makes its contact done — the customer who talked is not dialled again — and a contact
whose call nobody knows is an attempt of unknown fate (``dialer/left_in_flight.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from ctiserver.calls.tracker import Tracker
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.events.log import EventLog
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from ctiserver.store.repository import CallRepository
from tests.api.crash_daemon import COMPONENTS, config
from tests.api.harness import daemon
from tests.calls.test_tracker_rules import chan
from tests.dialer.test_runner import ALWAYS
from tests.dialer.waits import until
from tests.store.migrated import migrated

TALKED, LOST = "att-talked", "att-lost"


def _talking_call() -> dict[str, object]:
    """The checkpoint of an attempt's call the killed run saw connected to agent 1001."""
    tracker = Tracker()
    for e in (
        chan("Newchannel", 0, "Local/+493010000001@ctiserver-dialer-00000000;1", TALKED, TALKED, "6"),
        chan("Newchannel", 1, "PJSIP/trunk-00000001", "callee", TALKED, "6"),
        chan("Newchannel", 5, "PJSIP/1001-00000002", "agent", TALKED, "6"),
        chan("BridgeEnter", 6, "PJSIP/trunk-00000001", "callee", TALKED, "6", BridgeUniqueid="b"),
        chan("BridgeEnter", 6, "PJSIP/1001-00000002", "agent", TALKED, "6", BridgeUniqueid="b"),
    ):
        tracker.feed(e)
    call = tracker.calls[TALKED]
    assert call.connected is not None
    return json.loads(json.dumps(tracker.checkpoint(call)))  # type: ignore[no-any-return]


async def test_contacts_a_killed_run_left_dialling_are_judged_by_their_calls(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite"
    settings = CampaignSettings(
        name="c1", mode=PacingMode.PROGRESSIVE, windows=ALWAYS, retry=RetryPolicy(max_attempts=3, failed=600.0)
    )
    async with migrated(url) as sessions:  # what the killed run left in the database
        store = SqlDialerStore(sessions)
        await store.save_campaign("c1", settings.model_dump(mode="json"), "paused")
        dialling = ContactStatus.DIALLING
        await store.add_contacts(
            [
                Contact("talked", "c1", "+493010000001", "Europe/Berlin", status=dialling, attempt=TALKED),
                Contact("lost", "c1", "+493010000002", "Europe/Berlin", status=dialling, attempt=LOST),
            ]
        )
        await CallRepository(sessions).apply([{"kind": "live", "data": _talking_call(), "seen": 1_800_000_000.0}])
    async with Simulator(SimConfig()) as sim, migrated(url) as sessions:
        store = SqlDialerStore(sessions)
        async with daemon(tmp_path, COMPONENTS, **config(tmp_path, sim.ami_port, sim.ari_url)) as d:
            log = d.ctx.require(EventLog)
            # judged once the tracker has looked at the PBX: one dialer.attempt each
            assert await until(lambda: sum(e.type == "dialer.attempt" for e in log._ring) == 2, 30.0)
        talked, lost = await store.get_contact("c1", "talked"), await store.get_contact("c1", "lost")
        assert talked is not None and lost is not None
        assert (talked.status, talked.last_outcome) == (ContactStatus.DONE, Outcome.HUMAN)
        assert (lost.status, lost.last_outcome, lost.attempts) == (ContactStatus.PENDING, Outcome.UNKNOWN, 1)
        attempts = {a.id: a.outcome for a in await store.attempts("c1")}
        assert attempts == {TALKED: Outcome.HUMAN, LOST: Outcome.UNKNOWN}
