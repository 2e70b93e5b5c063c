"""Calling again a number the dialler abandoned: only with an agent held for the call.

A person who answered and heard the abandon message (or whom an agent reached past the two seconds), or whose
answer ``AMD()`` took for a machine (a false positive is a silent call to a person), is called again within
``repeat_with_agent`` (``model.RepeatRules``: 72 h, and 24 h for machine verdicts under the 24-hour regime) only
with "the guaranteed presence of a live operator" (Ofcom's persistent-misuse policy): the runner reserves a
ready agent before it dials such a number, or leaves it for a later round; the predictive pacer never dials it
ahead of agents. The attempts of every campaign on the number count, as for the do-not-call lists, and it is
checked at the moment of dialling."""

from __future__ import annotations

from ctiserver.dialer.model import CampaignSettings, Outcome
from ctiserver.dialer.store import DialerStore


async def agent_must_be_held(store: DialerStore, settings: CampaignSettings, number: str, now: float) -> bool:
    abandoned, machine = settings.repeat_with_agent.abandoned, settings.machine_repeat_seconds
    longest = max(abandoned, machine)
    if longest <= 0:
        return False
    for attempt in await store.number_attempts(number, now - longest):
        if abandoned > 0 and attempt.abandoned and attempt.ended >= now - abandoned:
            return True
        if machine > 0 and attempt.outcome is Outcome.MACHINE and attempt.ended >= now - machine:
            return True
    return False
