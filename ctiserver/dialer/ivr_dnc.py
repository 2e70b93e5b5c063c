"""The dialler's do-not-call lists behind the IVR's ``do_not_call`` node: an opt-out line.

The US rule asks that a prerecorded telemarketing message left on an answering machine give a number that
connects "directly to the automated, interactive voice- and/or key press-activated opt-out mechanism" (47 CFR
64.1200(b)(3)(ii)), and that the abandon message give a number where the called person can make a do-not-call
request. Point a DID at an IVR script with a ``do_not_call`` node: the caller's number (in the campaign's region,
or the daemon's ``default_region`` for the global list) goes on the list and ``dialer.opt_out`` is published with
``source: ivr``."""

from __future__ import annotations

from ctiserver.dialer.numbers import BadNumber, to_e164
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import GLOBAL
from ctiserver.events import new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


class DialerDnc:
    def __init__(self, service: DialerService, default_region: str = "US") -> None:
        self.service = service
        self.default_region = default_region

    async def do_not_call(self, number: str, campaign: str | None, reason: str, call_id: str = "") -> str:
        region = self.default_region
        if campaign is not None:
            runner = self.service.runners.get(campaign)
            if runner is None:
                raise ValueError(f"no campaign {campaign!r}")
            region = runner.settings.region
        try:
            e164 = to_e164(number, region)
        except BadNumber as exc:
            raise ValueError(str(exc)) from None
        await self.service.dnc_add([e164], campaign or GLOBAL, reason)
        log.info("opt-out line: number on the do-not-call list", campaign=campaign or "global", call_id=call_id)
        data = {"campaign": campaign, "number": e164, "list": campaign or "global", "source": "ivr", "call_id": call_id}
        bus, now = self.service.bus, self.service.clock.now()
        await bus.publish(new_event("dialer.opt_out", call_id or e164, data, now))
        return e164
