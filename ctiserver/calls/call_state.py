"""The call state machine.

``ACTIVE`` (legs exist, no conversation) ⇄ ``QUEUED`` (the caller waits in a queue) ⇄ ``CONNECTED``
(two parties bridged) → ``ENDED`` (every leg hung up, or closed by a resync). A connected call can be queued
again (transfer to a queue) or drop back to ``ACTIVE`` (agent left, caller back in IVR/dialplan).
Nothing leaves ``ENDED``.
"""

from __future__ import annotations

from enum import StrEnum

from ctiserver.calls.fsm import Machine


class CallState(StrEnum):
    ACTIVE = "active"
    QUEUED = "queued"
    CONNECTED = "connected"
    ENDED = "ended"


_LIVE = (CallState.ACTIVE, CallState.QUEUED, CallState.CONNECTED)

CALL_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    s: frozenset(x for x in (*_LIVE, CallState.ENDED) if x is not s) for s in _LIVE
}
CALL_TRANSITIONS[CallState.ENDED] = frozenset()


def call_machine() -> Machine[CallState]:
    return Machine("call", CallState.ACTIVE, CALL_TRANSITIONS)
