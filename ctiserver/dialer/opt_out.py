"""The callee's opt-out during the dialler's message.

The US rule asks that the message an abandoned live answer hears (47 CFR 64.1200(a)(7)(i)(A)), like any
prerecorded telemarketing message (64.1200(b)(3)), offer "an automated, interactive voice- and/or key
press-activated opt-out mechanism" that records the number on the seller's do-not-call list and ends the call
at once. The rendered ``ctiserver-dialer-abandon`` context plays the message with ``Read()``; the campaign's
``opt_out_key`` pressed during it, or within ``opt_out_wait`` s after it, raises the AMI event::

    Event: UserEvent
    UserEvent: CtiDialerOptOut
    Uniqueid: <attempt>  (the channel's snapshot)
    Attempt: <attempt>
    Campaign: <campaign>
    Contact: <contact id>
    Key: <the key>

and hangs up. Before the event the dialplan writes the opt-out to Asterisk's own database
(``Set(DB(ctiserver_optout/<attempt>)=<campaign>|<contact id>|<key>)``): an event sent while the AMI link was down
reaches nobody, and the law does not excuse a lost opt-out. The daemon reads that family (``DBGetTree``) after
every AMI login and every ``SWEEP_EVERY`` s, applies what it finds, and deletes each entry (``DBDel``) once the
number is on the list — also the entries of the events it heard. An opt-out the store could not take (database
down) stays in Asterisk's database until a sweep gets it through.

Here the number goes on the campaign's do-not-call list (``opt_out_list: global``: the global
one), the contact is closed (``dnc``) unless a call to it is in flight (the dial-time check closes it then),
the campaign's counter ``opted_out`` grows and ``dialer.opt_out`` is published (webhooks, the event stream).
An opt-out whose campaign or contact was deleted before it was read takes the number from its attempt, which
stays as history; the global list takes it when the campaign is gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ctiserver.dialer.model import ContactStatus
from ctiserver.dialer.store import GLOBAL
from ctiserver.events import new_event
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEvent

if TYPE_CHECKING:
    from ctiserver.dialer.service import DialerService

log = get_logger(__name__)

EVENT = "CtiDialerOptOut"  # the UserEvent of the rendered dialplan
FAMILY = "ctiserver_optout"  # the rendered dialplan's AstDB family: <attempt> → <campaign>|<contact id>|<key>
SWEEP_EVERY = 60.0  # s: between two reads of the family while the link is up
ACTION_TIMEOUT = 10.0
DONE_KEPT = 10_000  # attempts remembered as applied


@dataclass(frozen=True)
class OptOut:
    attempt: str
    campaign: str
    contact_id: str
    key: str


def parse(event: AmiEvent) -> OptOut | None:
    """The opt-out a ``UserEvent`` reports, or None for any other user event (or one missing what it needs)."""
    if (event.get("UserEvent") or "") != EVENT:
        return None
    attempt = event.get("Attempt") or event.get("Uniqueid") or ""
    campaign, contact = event.get("Campaign") or "", event.get("Contact") or ""
    if not (attempt and campaign and contact):
        log.warning("opt-out event without its attempt, campaign or contact", attempt=attempt, campaign=campaign)
        return None
    return OptOut(attempt, campaign, contact, event.get("Key") or "")


def from_db(key: str, value: str) -> OptOut | None:
    """The opt-out of a ``DBGetTreeResponse`` (``Key: /ctiserver_optout/<attempt>``, ``Val: <campaign>|<contact
    id>|<key>``; campaign names have no ``|``, the key is one character or none)."""
    attempt = key.rpartition("/")[2]
    campaign, _, rest = value.partition("|")
    contact, _, pressed = rest.rpartition("|")
    if not (attempt and campaign and contact):
        log.warning("opt-out entry of the PBX's database not understood", key=key, value=value)
        return None
    return OptOut(attempt, campaign, contact, pressed)


class OptOuts:
    """Applies the opt-outs the PBX reports over AMI, and those it kept in its database while nobody heard."""

    def __init__(self, service: DialerService, ami: AmiClient | None = None) -> None:
        self.service = service
        self.ami = ami
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[str] = set()  # attempts being applied (a heard event and a sweep may bring the same one)
        self._unknown: set[str] = set()  # attempts left in the PBX's database: campaign or contact unknown here
        self._done: dict[str, None] = {}  # attempts applied lately (oldest first): a failed DBDel applies nothing twice
        if ami is not None:
            ami.on_event("UserEvent", self._on_event)
            ami.on_reconnect(self._on_login)
            self._spawn(self._sweeper(ami), "cti:dialer-opt-out-sweep")

    def _spawn(self, work: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, event: AmiEvent) -> None:
        opt = parse(event)
        if opt is not None:
            self._spawn(self._apply_logged(opt), "cti:dialer-opt-out")

    async def _apply_logged(self, opt: OptOut) -> bool:
        """Apply ``opt`` once, then delete it from the PBX's database; True if it is done with."""
        if opt.attempt in self._busy:
            return False
        if opt.attempt in self._done:  # applied: only its DBDel failed (no ``system`` class?), try it again
            await self._forget(opt.attempt, quiet=True)
            return False
        self._busy.add(opt.attempt)
        try:
            if not await self.apply(opt):
                self._unknown.add(opt.attempt)
                return False
        except Exception:  # the store may be down: the PBX's database keeps it for the next sweep
            log.exception("opt-out not recorded", campaign=opt.campaign, contact=opt.contact_id, attempt=opt.attempt)
            return False
        finally:
            self._busy.discard(opt.attempt)
        self._done[opt.attempt] = None
        if len(self._done) > DONE_KEPT:
            del self._done[next(iter(self._done))]
        await self._forget(opt.attempt)
        return True

    async def _forget(self, attempt: str, quiet: bool = False) -> None:
        """``DBDel`` of the entry (an event heard has one too; none: "Database entry not found", harmless)."""
        if self.ami is None:
            return
        try:
            result: Any = await self.ami.action("DBDel", [("Family", FAMILY), ("Key", attempt)], timeout=ACTION_TIMEOUT)
        except AmiError as exc:  # the next sweep finds it again; applied already, it is only deleted then
            if not quiet:
                log.warning("opt-out left in the PBX's database", attempt=attempt, error=str(exc))
            return
        message = str(result.get("Message") or "")
        if result.get("Response") == "Error" and "not found" not in message and not quiet:
            log.warning(
                "opt-out left in the PBX's database (DBDel needs the system class)", attempt=attempt, error=message
            )

    async def sweep(self) -> int:
        """Apply the opt-outs the PBX kept (``DBGetTree``); how many were applied now."""
        if self.ami is None:
            return 0
        try:
            result: Any = await self.ami.action("DBGetTree", [("Family", FAMILY)], timeout=ACTION_TIMEOUT)
        except AmiError as exc:
            log.warning("opt-outs of the PBX's database not read", error=str(exc))
            return 0
        applied = 0
        for item in getattr(result, "events", ()):
            if item.name != "DBGetTreeResponse":
                continue
            opt = from_db(item.get("Key") or "", item.get("Val") or "")
            if opt is None or opt.attempt in self._unknown:
                continue
            if await self._apply_logged(opt):
                applied += 1
                log.info("opt-out taken from the PBX's database", attempt=opt.attempt, campaign=opt.campaign)
        return applied

    async def _on_login(self) -> None:
        await self.sweep()

    async def _sweeper(self, ami: AmiClient) -> None:
        """A sweep at once (the link is usually up before the dialler starts: the login's sweep was not ours), then
        every ``SWEEP_EVERY`` s while the link is up."""
        while True:
            if ami.connected.is_set():
                await self.sweep()
            await self.service.clock.sleep(SWEEP_EVERY)

    async def apply(self, opt: OptOut) -> bool:
        """Record ``opt``; False when neither its contact nor its attempt is known here."""
        service = self.service
        runner = service.runners.get(opt.campaign)
        contact = await service.store.get_contact(opt.campaign, opt.contact_id) if runner is not None else None
        number = contact.number if contact is not None else await self._attempt_number(opt)
        if number is None:
            log.warning("opt-out for an unknown campaign or contact", campaign=opt.campaign, contact=opt.contact_id)
            return False
        scope = GLOBAL if runner is None or runner.settings.opt_out_list == "global" else opt.campaign
        reason = f"opt-out key {opt.key} on the message (attempt {opt.attempt})"
        await service.store.dnc_add([number], scope, reason=reason)
        if contact is not None and number not in service.numbers_in_flight and contact.status is not ContactStatus.DNC:
            await service.store.save_contact(replace(contact, status=ContactStatus.DNC))
        if runner is not None:
            runner.counters["opted_out"] += 1
        log.info("callee opted out", campaign=opt.campaign, contact=opt.contact_id, attempt=opt.attempt, list=scope)
        data = {
            "campaign": opt.campaign,
            "contact_id": opt.contact_id,
            "number": number,
            "attempt": opt.attempt,
            "list": scope or "global",
            "source": "message",
        }
        await service.bus.publish(new_event("dialer.opt_out", opt.contact_id, data, service.clock.now()))
        return True

    async def _attempt_number(self, opt: OptOut) -> str | None:
        """The number the opt-out's attempt dialled, from the attempts kept as history: the campaign may have been
        deleted with its contacts (or the contact alone) since the callee pressed the key while the AMI link was
        down. With the campaign gone, the number goes on the global list (before session 29 such an opt-out was
        left unapplied)."""
        attempts = await self.service.store.contact_attempts(opt.campaign, opt.contact_id)
        return next((a.number for a in attempts if a.id == opt.attempt), None)

    async def close(self) -> None:
        for task in list(self._tasks):
            if task.get_name() == "cti:dialer-opt-out-sweep":
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
