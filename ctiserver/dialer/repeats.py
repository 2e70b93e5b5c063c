"""Calling again a number the dialler abandoned: only with an agent held for the call.

A person who answered and heard the abandon message (or whom an agent reached past the two seconds), or whose
answer ``AMD()`` took for a machine (a false positive is a silent call to a person), is called again within
``repeat_with_agent`` (``model.RepeatRules``: 72 h, and 24 h for machine verdicts under the 24-hour regime) only
with "the guaranteed presence of a live operator" (Ofcom's persistent-misuse policy): the runner reserves a
ready agent before it dials such a number, or leaves it for a later round; the predictive pacer never dials it
ahead of agents. The attempts of every campaign on the number count, as for the do-not-call lists, and it is
checked at the moment of dialling.

The same look at the number's recent attempts enforces ``max_calls_per_day``: at most that many calls to one
number in any 24 hours (Florida's and Oklahoma's telephone-solicitation acts: 3), over every campaign; the next
one waits until the oldest of them is 24 hours old."""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.dialer.model import CampaignSettings, Outcome
from ctiserver.dialer.store import DialerStore

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Repeat:
    """What the number's recent attempts say about calling it now."""

    hold_agent: bool = False  # only with an agent held for the call
    not_before: float | None = None  # the day's calls are used up: not before then


async def repeat_rules(store: DialerStore, settings: CampaignSettings, number: str, now: float) -> Repeat:
    abandoned, machine = settings.repeat_with_agent.abandoned, settings.machine_repeat_seconds
    cap = settings.max_calls_per_day
    longest = max(abandoned, machine, DAY if cap is not None else 0.0)
    if longest <= 0:
        return Repeat()
    attempts = await store.number_attempts(number, now - longest)
    if cap is not None:
        today = sorted(a.started for a in attempts if a.started > now - DAY)
        if len(today) >= cap:
            return Repeat(not_before=today[-cap] + DAY)
    hold = any(
        (abandoned > 0 and a.abandoned and a.ended >= now - abandoned)
        or (machine > 0 and a.outcome is Outcome.MACHINE and a.ended >= now - machine)
        for a in attempts
    )
    return Repeat(hold_agent=hold)
