"""The AMD audit over the wire (``dialer/amd_audit.py``): with ``amd_audit_every: 2`` every second MACHINE verdict
of the simulator's ``AMD()`` (rendered dialplan) is not hung up on but redirected to an agent's phone like a live
answer, and its attempt is stored ``amd_audit: pending``. The agents' dispositions give the verdicts — two
"answering_machine", one "sale" (a person: AMD was wrong), one during the call (applied when the attempt is
stored). With ``amd_audit_min: 4`` the measured rate (1 person of 4) replaces the configured 5 % in the ledger;
a machine's live answer leaves the ledger and its contact is retried after the machine delay; a restarted
campaign measures the same."""

from __future__ import annotations

import pytest

from ctiserver.dialer.compliance import abandonment_record
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.service import DialerService
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow

N = 8


async def test_every_second_machine_verdict_goes_to_an_agent_whose_disposition_measures_amd() -> None:
    callees = {number(i): Callee(reachable=True, answers=True, machine=True, ring=0.3, talk=2.0) for i in range(N)}
    settings = CampaignSettings(
        name="audit",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=3, machine=3600.0),
        amd_false_positive_rate=0.05,
        amd_audit_every=2,
        amd_audit_min=4,
    )
    contacts = [Contact(f"c{i}", "audit", number(i), "Europe/Berlin") for i in range(N)]
    async with wire(settings, contacts, callees, rendered=True) as w:
        service = w.ctx.require(DialerService)
        connected: list[str] = []
        w.bus.listeners.append(
            lambda e: connected.append(str(e.data["contact_id"])) if e.type == "dialer.connected" else None
        )
        await w.runner.start()
        assert await until(lambda: len(connected) >= 1, 60.0), w.runner.live_stats()
        during = connected[0]
        await service.disposition("audit", during, "answering_machine", agent="1001")  # while still talking
        assert await until(
            lambda: w.runner.counters["dialled"] >= N and not w.runner._tasks and len(connected) == N // 2, 90.0
        ), w.runner.live_stats()
        attempts = {a.contact_id: a for a in await w.store.attempts("audit")}
        audited = sorted(c for c, a in attempts.items() if a.amd_audit is not None)
        assert sorted(connected) == audited and len(audited) == N // 2
        assert all(attempts[c].outcome is Outcome.HUMAN and attempts[c].amd_status == "MACHINE" for c in audited)
        assert all(attempts[c].amd_audit is None for c in attempts if c not in audited)  # hung up on, as before
        assert attempts[during].amd_audit == "machine"  # the disposition given during the call
        rest = [c for c in audited if c != during]
        for contact_id, dispo in zip(rest, ("answering_machine", "sale", "answering_machine"), strict=True):
            await service.disposition("audit", contact_id, dispo, agent="1002")
        verdicts = {c: a.amd_audit for c, a in ((a.contact_id, a) for a in await w.store.attempts("audit"))}
        assert sorted(verdicts[c] for c in audited) == ["machine", "machine", "machine", "person"]
        now = w.runner.clock.now()
        assert w.runner.audit.measured == pytest.approx(0.25) and w.runner.ledger.false_positive_rate == 0.25
        stats = w.runner.live_stats()
        assert stats["amd_false_positive_rate"] == 0.25
        assert stats["amd_audit"] == {"people": 1, "machines": 3, "measured": 0.25}
        # 4 machine verdicts hung up on × 25 % estimated; 1 person served; the 3 machines are no live answers
        live, abandoned = w.runner.ledger.totals(now)
        assert (live, abandoned) == pytest.approx((1 + 1.0, 0 + 1.0))
        stored = {c.id: c for c in w.store._contacts.values()}
        person = rest[1]
        assert stored[person].status is ContactStatus.DONE
        for machine in (during, rest[0], rest[2]):
            assert stored[machine].status is ContactStatus.PENDING and stored[machine].next_at >= now + 3500
        record = await abandonment_record(w.store, settings, now - 3600.0, now + 1.0)
        assert record.false_positive_rate == 0.25  # the abandonment record counts with the measured rate too
        assert record.worst is not None and record.worst.live == pytest.approx(live)
        again = CampaignRunner(settings, w.store, w.lines, w.desk, w.bus, w.runner.clock)
        await again.load_history()  # a restart measures the same from the stored verdicts
        assert again.audit.measured == pytest.approx(0.25)
        assert again.ledger.totals(now) == pytest.approx((live, abandoned))
