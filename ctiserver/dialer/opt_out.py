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

and hangs up. Here the number goes on the campaign's do-not-call list (``opt_out_list: global``: the global
one), the contact is closed (``dnc``) unless a call to it is in flight (the dial-time check closes it then),
the campaign's counter ``opted_out`` grows and ``dialer.opt_out`` is published (webhooks, the event stream).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ctiserver.dialer.model import ContactStatus
from ctiserver.dialer.store import GLOBAL
from ctiserver.events import new_event
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent

if TYPE_CHECKING:
    from ctiserver.dialer.service import DialerService

log = get_logger(__name__)

EVENT = "CtiDialerOptOut"  # the UserEvent of the rendered dialplan


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


class OptOuts:
    """Applies the opt-outs the PBX reports over AMI."""

    def __init__(self, service: DialerService, ami: AmiClient | None = None) -> None:
        self.service = service
        self._tasks: set[asyncio.Task[None]] = set()
        if ami is not None:
            ami.on_event("UserEvent", self._on_event)

    def _on_event(self, event: AmiEvent) -> None:
        opt = parse(event)
        if opt is None:
            return
        task = asyncio.get_running_loop().create_task(self._apply_logged(opt), name="cti:dialer-opt-out")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply_logged(self, opt: OptOut) -> None:
        try:
            await self.apply(opt)
        except Exception:  # the store may be down: the number must not be lost silently
            log.exception("opt-out not recorded", campaign=opt.campaign, contact=opt.contact_id, attempt=opt.attempt)

    async def apply(self, opt: OptOut) -> bool:
        """Record ``opt``; False when its campaign or contact is unknown here."""
        service = self.service
        runner = service.runners.get(opt.campaign)
        contact = await service.store.get_contact(opt.campaign, opt.contact_id) if runner is not None else None
        if runner is None or contact is None:
            log.warning("opt-out for an unknown campaign or contact", campaign=opt.campaign, contact=opt.contact_id)
            return False
        scope = GLOBAL if runner.settings.opt_out_list == "global" else opt.campaign
        reason = f"opt-out key {opt.key} on the message (attempt {opt.attempt})"
        await service.store.dnc_add([contact.number], scope, reason=reason)
        if contact.number not in service.numbers_in_flight and contact.status is not ContactStatus.DNC:
            await service.store.save_contact(replace(contact, status=ContactStatus.DNC))
        runner.counters["opted_out"] += 1
        log.info("callee opted out", campaign=opt.campaign, contact=opt.contact_id, attempt=opt.attempt)
        data = {
            "campaign": opt.campaign,
            "contact_id": opt.contact_id,
            "number": contact.number,
            "attempt": opt.attempt,
            "list": scope or "global",
            "source": "message",
        }
        await service.bus.publish(new_event("dialer.opt_out", opt.contact_id, data, service.clock.now()))
        return True

    async def close(self) -> None:
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
