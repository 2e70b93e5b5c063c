"""The leg state machine.

``NEW`` (channel created) → ``RINGING`` (inbound Ring or outbound Ringing) → ``UP`` (answered) ⇄ ``HELD`` →
``ENDED``. Any live state may end; nothing leaves ``ENDED``. A leg may go straight from ``NEW`` to ``UP``
(answered without ringing, e.g. a Local channel or an auto-answer endpoint).
"""

from __future__ import annotations

from enum import StrEnum

from ctiserver.calls.fsm import Machine


class LegState(StrEnum):
    NEW = "new"
    RINGING = "ringing"
    UP = "up"
    HELD = "held"
    ENDED = "ended"


LEG_TRANSITIONS: dict[LegState, frozenset[LegState]] = {
    LegState.NEW: frozenset({LegState.RINGING, LegState.UP, LegState.ENDED}),
    LegState.RINGING: frozenset({LegState.UP, LegState.ENDED}),
    LegState.UP: frozenset({LegState.HELD, LegState.ENDED}),
    LegState.HELD: frozenset({LegState.UP, LegState.ENDED}),
    LegState.ENDED: frozenset(),
}


def leg_machine(initial: LegState = LegState.NEW) -> Machine[LegState]:
    return Machine("leg", initial, LEG_TRANSITIONS)


# Asterisk ChannelState codes (channelstate.h) → leg state
CHANNEL_STATES: dict[str, LegState] = {
    "0": LegState.NEW,  # Down
    "1": LegState.NEW,  # Rsrvd
    "2": LegState.NEW,  # OffHook
    "3": LegState.NEW,  # Dialing
    "4": LegState.RINGING,  # Ring (inbound, not yet answered)
    "5": LegState.RINGING,  # Ringing (remote end alerting)
    "6": LegState.UP,
    "7": LegState.RINGING,  # Busy: still unanswered; the Hangup carries the cause
    "8": LegState.NEW,  # Dialing Offhook
    "9": LegState.NEW,  # Pre-ring
}
