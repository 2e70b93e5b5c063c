"""The AMD audit: measuring how often ``AMD()`` takes a person for a machine, instead of guessing.

Ofcom asks that a campaign's abandoned-call rate include "a reasoned estimate of AMD false positives" and that the
user can show its basis. With ``amd_audit_every: N`` every Nth MACHINE verdict is not hung up on: it is offered to
an agent like a live answer (the two seconds, the message if nobody is free; counted in the ledger as a live
answer) and its attempt is stored with ``amd_audit: pending``. The agent's disposition gives the verdict:
``answering_machine`` → "machine" (the ledger forgets that live answer; the contact is retried after the
``machine`` delay), any other → "person" (AMD was wrong; the call was served). Once ``amd_audit_min`` audited
calls of the abandonment window have a verdict, their share of people replaces the configured
``amd_false_positive_rate`` in the ledger, for every MACHINE verdict of the window.
"""

from __future__ import annotations

from dataclasses import replace

from ctiserver.dialer.model import AttemptRecord, CampaignSettings, ContactStatus, Outcome
from ctiserver.dialer.stats import AbandonLedger
from ctiserver.dialer.store import DialerStore
from ctiserver.logs import get_logger

log = get_logger(__name__)

MACHINE_DISPOSITION = "answering_machine"


def measured_rate(settings: CampaignSettings, people: int, machines: int) -> float | None:
    """The share of people among audited verdicts, once there are ``amd_audit_min`` of them."""
    n = people + machines
    return people / n if n and n >= settings.amd_audit_min else None


async def rate_in_use(store: DialerStore, settings: CampaignSettings, since: float) -> float:
    """AMD's false-positive rate as the ledger counts it: measured by the audit (verdicts since ``since``) when
    there are enough, else the campaign's ``amd_false_positive_rate`` — for the abandonment record too."""
    measured = measured_rate(settings, *await store.amd_audit_counts(settings.name, since))
    return settings.amd_false_positive_rate if measured is None else measured


class AmdAudit:
    def __init__(self, settings: CampaignSettings, store: DialerStore, ledger: AbandonLedger) -> None:
        self.settings = settings
        self.store = store
        self.ledger = ledger
        self.seen = 0  # MACHINE verdicts since the campaign (re)loaded
        self.people = 0  # audited verdicts in the window: people ...
        self.machines = 0  # ... and machines
        self.early: dict[str, str] = {}  # contact id → a disposition given during an audited call (not stored yet)

    def pick(self) -> bool:
        """Whether this MACHINE verdict goes to an agent (every Nth)."""
        every = self.settings.amd_audit_every
        self.seen += 1
        return bool(every) and self.seen % every == 0

    @property
    def measured(self) -> float | None:
        """The share of people among the audited verdicts of the window, once there are enough."""
        return measured_rate(self.settings, self.people, self.machines)

    def stats(self) -> dict[str, int | float | None]:
        return {"people": self.people, "machines": self.machines, "measured": self.measured}

    async def load(self, now: float) -> None:
        """The window's audited verdicts from the store; the ledger's false-positive rate follows."""
        self.people, self.machines = await self.store.amd_audit_counts(self.settings.name, now - self.ledger.window)
        measured = self.measured
        self.ledger.false_positive_rate = self.settings.amd_false_positive_rate if measured is None else measured

    async def verdict(self, attempt: AttemptRecord, disposition: str, now: float) -> str:
        """The agent's disposition on an audited attempt (stored, ``pending``): store the verdict, correct the
        ledger, measure again; a machine's contact is retried after the ``machine`` delay (it was done: "a
        person talked")."""
        verdict = "machine" if disposition == MACHINE_DISPOSITION else "person"
        await self.store.set_amd_audit(attempt.id, verdict)
        if verdict == "machine":
            self.ledger.forget(attempt.ended, attempt.abandoned)
            await self._retry_as_machine(attempt, now)
        await self.load(now)
        log.info("amd audit", campaign=self.settings.name, attempt=attempt.id, verdict=verdict,
                 people=self.people, machines=self.machines, rate=self.measured)  # fmt: skip
        return verdict

    async def _retry_as_machine(self, attempt: AttemptRecord, now: float) -> None:
        contact = await self.store.get_contact(self.settings.name, attempt.contact_id)
        delay = self.settings.retry.delay(Outcome.MACHINE)
        if contact is None or contact.status is not ContactStatus.DONE or delay is None:
            return
        if contact.attempts < self.settings.retry.max_attempts:
            again = replace(contact, status=ContactStatus.PENDING, next_at=now + delay, last_outcome=Outcome.MACHINE)
            await self.store.save_contact(again)
