"""What became of the calls a killed daemon left in flight: told by the call tracker.

A contact is written ``dialling`` with its attempt id before each dial (``Contact.attempt``); a graceful stop ends
its attempts itself, a killed daemon leaves them. The attempt id is the Originate's ``ChannelId``, so it is the
id of the attempt's call in the call tracker, which takes the calls an earlier run left back from their
checkpoints as the PBX shows their channels (``calls/checkpoints.py``). Once the tracker has looked at the PBX
(its first resync), each such attempt is judged by its call: connected to an agent → ``human`` (the contact is
done: a customer who talked is not dialled again); ended without it, or not known at all → ``unknown`` (retried
after the ``failed`` delay); still going on → asked again every ``RECHECK`` s until it ends.
"""

from __future__ import annotations

from typing import Any

from ctiserver.calls.call_state import CallState
from ctiserver.calls.tracker import Tracker
from ctiserver.clock import Clock
from ctiserver.dialer.model import Outcome
from ctiserver.dialer.ports import Fate
from ctiserver.dialer.service import DialerService
from ctiserver.logs import get_logger

log = get_logger(__name__)

RECHECK = 5.0  # s between looks at the calls still going on
RESYNC_WAIT = 60.0  # s to wait for the tracker's first look at the PBX before judging without it


def fate_from(tracker: Tracker) -> Fate:
    def fate(attempt: str) -> Outcome | None:
        call = tracker.call_of(attempt)
        if call is None:
            return Outcome.UNKNOWN
        if call.state is not CallState.ENDED:
            return None
        return Outcome.HUMAN if call.connected is not None else Outcome.UNKNOWN

    return fate


async def settle(service: DialerService, calls: Any, clock: Clock) -> None:
    """Background task of the dialer component: judge the attempts an earlier run left in flight. ``calls``: the
    ``CallService`` (None without the calls component: every such attempt is of unknown fate)."""
    fate: Fate | None = None
    if calls is not None:
        waited = 0.0
        while calls.resyncs < 1 and waited < RESYNC_WAIT:
            await clock.sleep(0.5)
            waited += 0.5
        if calls.resyncs >= 1:
            fate = fate_from(calls.tracker)
        else:
            log.warning("the PBX was not looked at: calls left in flight are judged of unknown fate")
    while await service.settle_left_in_flight(fate):
        await clock.sleep(RECHECK)
