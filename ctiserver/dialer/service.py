"""The dialer service: campaigns (create, start / pause / stop, live stats), contacts, DNC and call-backs.

What the API, the CLI and the component use; each campaign runs in its own ``CampaignRunner``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ctiserver.clock import Clock
from ctiserver.dialer.campaign_state import CampaignState, IllegalCampaignTransition
from ctiserver.dialer.importer import ImportReport
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome
from ctiserver.dialer.numbers import timezone_of, to_e164
from ctiserver.dialer.ports import Desk, Fate, Lines
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.store import GLOBAL, DialerStore, drop_known_numbers
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


class UnknownCampaign(KeyError):
    pass


class CampaignBusy(Exception):
    """Editing or deleting a running campaign: pause or stop it first."""


_FIXED = ("name",)  # settings an edit may not change


class DialerService:
    def __init__(self, store: DialerStore, lines: Lines, desk: Desk, bus: Bus, clock: Clock) -> None:
        self.store = store
        self.lines = lines
        self.desk = desk
        self.bus = bus
        self.clock = clock
        self.runners: dict[str, CampaignRunner] = {}
        self.numbers_in_flight: dict[str, str] = {}  # number → attempt: the calls in flight of every campaign
        self._written: dict[str, str] = {}  # campaign → the state we last stored

    # ---- campaigns ----------------------------------------------------------------------------------------
    async def load(self, configured: Iterable[CampaignSettings] = ()) -> None:
        """Campaigns from the database (with their last state) and from the configuration."""
        for name, raw, state in await self.store.campaigns():
            runner = await self._add(CampaignSettings.model_validate(raw), persist=False)
            if state == CampaignState.RUNNING.value:
                await runner.start()
            elif state != CampaignState.DRAFT.value:
                runner.state = CampaignState(state)
            self._written[name] = state
        for settings in configured:
            if settings.name not in self.runners:
                await self._add(settings)

    async def settle_left_in_flight(self, fate: Fate | None = None) -> int:
        """The contacts an earlier run left ``dialling``, in every campaign (``CampaignRunner.settle_left_in_flight``);
        returns how many calls still go on."""
        going_on = 0
        for runner in list(self.runners.values()):
            going_on += await runner.settle_left_in_flight(fate)
        return going_on

    async def create(self, settings: CampaignSettings) -> CampaignRunner:
        if settings.name in self.runners:
            raise ValueError(f"campaign {settings.name!r} exists already")
        return await self._add(settings)

    def _runner(self, settings: CampaignSettings) -> CampaignRunner:
        return CampaignRunner(settings, self.store, self.lines, self.desk, self.bus, self.clock, self.numbers_in_flight)

    async def _add(self, settings: CampaignSettings, persist: bool = True) -> CampaignRunner:
        runner = self._runner(settings)
        await runner.load_history()
        self.runners[settings.name] = runner
        if persist:
            await self._persist(runner)
        return runner

    async def _persist(self, runner: CampaignRunner) -> None:
        await self.store.save_campaign(
            runner.settings.name, runner.settings.model_dump(mode="json"), runner.state.value
        )
        self._written[runner.settings.name] = runner.state.value

    async def sync_once(self) -> list[str]:
        """Apply what others wrote to the database (``ctiserver dialer campaign create|start|pause|stop``):
        new campaigns are added, a state that changed since we last wrote it is applied. Returns what changed."""
        changed = []
        for name, raw, state in await self.store.campaigns():
            runner = self.runners.get(name)
            if runner is None:
                runner = await self._add(CampaignSettings.model_validate(raw), persist=False)
                self._written[name] = CampaignState.DRAFT.value
                changed.append(f"{name}: added")
            if state == self._written.get(name) and runner.halted and runner.state.value != state:
                await self._persist(runner)  # it paused itself (the PBX refuses its calls): so it stays after a restart
                changed.append(f"{name}: {runner.state.value} ({runner.halted})")
                continue
            if state == self._written.get(name) or state == runner.state.value:
                self._written[name] = state
                continue
            action = {"running": runner.start, "paused": runner.pause, "stopped": runner.stop}.get(state)
            self._written[name] = state
            if action is None:
                continue
            try:
                await action()
            except IllegalCampaignTransition as exc:
                log.warning("campaign state from the database not applied", error=str(exc))
                continue
            changed.append(f"{name}: {state}")
        return changed

    async def watch(self, interval: float = 2.0) -> None:
        while True:
            await self.clock.sleep(interval)
            try:
                await self.sync_once()
            except Exception as exc:  # the database may be down for a while
                log.warning("campaign sync failed", error=str(exc)[:200])

    def runner(self, name: str) -> CampaignRunner:
        try:
            return self.runners[name]
        except KeyError:
            raise UnknownCampaign(name) from None

    async def start(self, name: str) -> dict[str, Any]:
        runner = self.runner(name)
        await runner.start()
        await self._persist(runner)
        return runner.live_stats()

    async def pause(self, name: str) -> dict[str, Any]:
        runner = self.runner(name)
        await runner.pause()
        await self._persist(runner)
        return runner.live_stats()

    async def stop(self, name: str) -> dict[str, Any]:
        runner = self.runner(name)
        await runner.stop()
        await self._persist(runner)
        return runner.live_stats()

    async def update(self, name: str, changes: Mapping[str, Any]) -> CampaignRunner:
        """Edit a campaign that is not running: ``changes`` (JSON, partial) are merged into its settings and
        validated (pydantic ``ValidationError`` on a bad value). The runner is rebuilt with the new settings,
        keeping its state; the abandonment ledger is rebuilt from the stored attempts."""
        old = self.runner(name)
        if old.state is CampaignState.RUNNING or old.in_flight:
            raise CampaignBusy(f"campaign {name!r} is running or has calls in flight: pause it first")
        for key in _FIXED:
            if key in changes and changes[key] != getattr(old.settings, key):
                raise ValueError(f"{key} cannot be changed")
        settings = CampaignSettings.model_validate({**old.settings.model_dump(mode="json"), **changes})
        runner = self._runner(settings)
        await runner.load_history()
        runner.state = old.state
        await old.close()
        self.runners[name] = runner
        await self._persist(runner)
        return runner

    async def delete(self, name: str) -> None:
        """Delete a campaign that is not running, with its contacts (the attempts stay as history)."""
        runner = self.runner(name)
        if runner.state is CampaignState.RUNNING or runner.in_flight:
            raise CampaignBusy(f"campaign {name!r} is running or has calls in flight: stop it first")
        await runner.close()
        del self.runners[name]
        self._written.pop(name, None)
        await self.store.delete_campaign(name)

    def stats(self, name: str | None = None) -> list[dict[str, Any]]:
        runners = [self.runner(name)] if name else list(self.runners.values())
        return [r.live_stats() for r in runners]

    # ---- lists, DNC ----------------------------------------------------------------------------------------
    async def import_contacts(self, campaign: str, contacts: Sequence[Contact], report: ImportReport) -> int:
        """A list's contacts (CSV, API): those whose number the campaign has under another id already are
        counted as duplicates in ``report``, not added (``store.drop_known_numbers``). How many were added."""
        kept, known = await drop_known_numbers(self.store, campaign, contacts)
        report.imported -= known
        report.duplicates += known
        return await self.add_contacts(campaign, kept) if kept else 0

    async def add_contacts(self, campaign: str, contacts: Iterable[Contact]) -> int:
        runner = self.runner(campaign)
        n = await self.store.add_contacts(contacts)
        runner.kick()
        return n

    async def dnc_add(self, numbers: Iterable[str], campaign: str = GLOBAL, reason: str = "") -> int:
        if campaign:
            self.runner(campaign)
        return await self.store.dnc_add(numbers, campaign, reason)

    async def disposition(self, campaign: str, contact_id: str, disposition: str, agent: str | None = None) -> None:
        """An agent's disposition; ``do_not_call`` puts the number on the campaign's list at once."""
        runner = self.runner(campaign)
        if disposition not in runner.settings.dispositions:
            raise ValueError(f"unknown disposition {disposition!r}; known: {', '.join(runner.settings.dispositions)}")
        contact = await self.store.get_contact(campaign, contact_id)
        if contact is None:
            raise KeyError(f"campaign {campaign} has no contact {contact_id!r}")
        if disposition == "do_not_call":
            await self.store.dnc_add([contact.number], campaign, reason=f"disposition by {agent or 'agent'}")
        await self._audit_verdict(runner, contact.id, disposition)
        await self.bus.publish(
            new_event(
                "dialer.disposition",
                contact_id,
                {
                    "campaign": campaign,
                    "contact_id": contact_id,
                    "disposition": disposition,
                    "agent": agent,
                },
                self.clock.now(),
            )
        )

    async def _audit_verdict(self, runner: CampaignRunner, contact_id: str, disposition: str) -> None:
        """A disposition on an audited MACHINE verdict (``amd_audit.py``) says whether a person answered: on the
        stored attempt, or, during the call, once the attempt is stored."""
        if contact_id in runner.talking:
            runner.audit.early[contact_id] = disposition  # applied by the runner when the attempt is stored
            return
        attempts = await self.store.contact_attempts(runner.settings.name, contact_id)
        if attempts and attempts[-1].amd_audit == "pending":
            await runner.audit.verdict(attempts[-1], disposition, self.clock.now())

    # ---- call-backs ---------------------------------------------------------------------------------------
    async def schedule_callback(
        self,
        campaign: str,
        number: str,
        at: float,
        *,
        agent: str | None = None,
        name: str = "",
        fields: Mapping[str, str] | None = None,
        source: str = "agent",
    ) -> Contact:
        """A call-back at ``at`` (epoch s): personal (only ``agent`` takes it) or for the campaign's queue.
        Dialled by the campaign at that time, inside the callee's window, after the DNC check."""
        runner = self.runner(campaign)
        e164 = to_e164(number, runner.settings.region)
        contact = Contact(
            id=f"cb-{uuid.uuid4().hex[:12]}",
            campaign=campaign,
            number=e164,
            timezone=timezone_of(e164, default=runner.settings.default_timezone),
            name=name,
            fields=dict(fields or {}),
            next_at=at,
            status=ContactStatus.CALLBACK,
            agent=agent,
            priority=10,
        )
        await self.store.add_contacts([contact])
        await self.bus.publish(
            new_event(
                "callback.scheduled",
                contact.id,
                {
                    "campaign": campaign,
                    "contact_id": contact.id,
                    "number": e164,
                    "at": at,
                    "agent": agent,
                    "source": source,
                },
                self.clock.now(),
            )
        )
        if runner.state is CampaignState.COMPLETED:  # its list was done: a call-back is new work (a paused or
            log.info("campaign reopened for a call-back", campaign=campaign)  # stopped one stays as it was put)
            await self.start(campaign)
        runner.kick()
        return contact

    async def cancel_callback(self, campaign: str, contact_id: str, why: str) -> bool:
        contact = await self.store.get_contact(campaign, contact_id)
        if contact is None or contact.status is not ContactStatus.CALLBACK:
            return False
        await self.store.save_contact(replace(contact, status=ContactStatus.DONE, last_outcome=Outcome.UNKNOWN))
        await self.bus.publish(
            new_event("callback.cancelled", contact_id, {"campaign": campaign, "why": why}, self.clock.now())
        )
        return True

    async def close(self) -> None:
        for runner in self.runners.values():
            await runner.close()
