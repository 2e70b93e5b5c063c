"""What the campaign runner needs from the outside, as two small protocols:

* ``Lines`` places one call (one leg) and reports how it ended or that it was answered live — over the
  ``CallControl`` seam (``ctiserver.dialer.lines``) or AMI Originate with AMD
  (``ctiserver.dialer.ami_lines``).
* ``Desk`` is the agent side — the ACD (``ctiserver.dialer.desk``): who is ready / talking / in wrap-up for
  the pacer, reserving a ready agent within the legal 2 s, and the conversation (screen-pop, bridge, wrap-up).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ctiserver.dialer.model import CampaignSettings, Contact, Outcome
from ctiserver.dialer.pacing import AgentView

# what became of an attempt an earlier run left in flight, by its id: an outcome, or None while its call goes on
Fate = Callable[[str], Outcome | None]


class NotPlaced(Exception):
    """The call was certainly not placed (link down before sending): no attempt, the contact stays due."""


class DialRejected(NotPlaced):
    """The PBX refused to place the call (AMI ``Response: Error`` to the Originate: "Extension does not exist."
    when the rendered dialplan is not loaded, "Invalid channel", "Permission denied"): a configuration fault
    every next call would meet too. No attempt, the contact stays due, and the campaign pauses with the PBX's
    message until someone resumes it."""


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why the lines dial nothing now (shown on the wallboard; the campaign stays ``running`` and dials again by
    itself once it clears): ``ami_down`` (no AMI link), ``reconciling`` (after a reconnect, calls of unknown fate
    are being looked for), ``ari_away`` (the ARI application that holds answered calls is not connected),
    ``dialplan_missing`` (``detail``: the rendered contexts the PBX lacks, comma-separated),
    ``lease_unconfirmed`` (the database's lease not confirmed lately: a standby may have taken over)."""

    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DialSpec:
    attempt_id: str
    campaign: CampaignSettings
    contact: Contact


@dataclass(frozen=True, slots=True)
class LineResult:
    """``HUMAN``: answered live, ``channel`` is up and waits for us; otherwise the leg is over."""

    outcome: Outcome
    channel: str | None = None
    amd_status: str | None = None
    amd_cause: str | None = None
    # when the callee's greeting ended (clock time; ``greeting.py``): the two seconds for an agent run from there.
    # None: the Lines cannot tell — they run from when the answer reaches the runner.
    greeting_end: float | None = None
    # False: the Lines learnt the fate late (after an AMI outage, by reconciliation): when it reached the runner is
    # not when it happened, so it is no sample of the answer rate and delays, and its answer time is not known
    timed: bool = True


@dataclass(frozen=True, slots=True)
class Conversation:
    """A live answer an agent took: ``talk`` seconds with the callee; ``connected``, when the agent's phone
    answered (clock time) — the law counts the call as abandoned if that was more than the two seconds after the
    callee's greeting (a phone that rings instead of answering at once); None: the desk cannot tell."""

    talk: float
    connected: float | None = None
    late: bool = False  # the runner's verdict: connected past the two seconds (an abandoned call in the ledger)


class Lines(Protocol):
    def blocked(self) -> Blocked | None:
        """Why nothing can be dialled now (link down, attempts of unknown fate being reconciled, …); None: dial."""
        ...

    async def place(self, spec: DialSpec) -> LineResult: ...

    async def abandon(self, channel: str, media: Sequence[str]) -> None:
        """Play the campaign's message to a live answer no agent could take, then hang up."""
        ...

    async def hangup(self, channel: str) -> None: ...

    async def drop(self, attempt_id: str) -> bool:
        """Hang up an attempt still ringing (its ``place`` ends); False when it was answered already (it goes on)."""
        ...


class Desk(Protocol):
    def agent_views(self, campaign: CampaignSettings) -> list[AgentView]:
        """The campaign's logged-in agents as the pacer sees them (times on the wall clock)."""
        ...

    async def reserve(
        self, campaign: CampaignSettings, wait: float, agent: str | None = None, *, call_id: str
    ) -> str | None:
        """Reserve a ready agent of the campaign (or exactly ``agent``) within ``wait`` s for the attempt
        ``call_id`` (the id ``converse`` will get); None if none."""
        ...

    async def release(self, agent: str) -> None:
        """Give back an agent reserved for a call that was not answered (personal call-back)."""
        ...

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> Conversation | None:
        """Connect the answered ``channel`` to the reserved ``agent`` (screen-pop with the contact's data),
        return the conversation when it is over (wrap-up is the desk's business), or None when the agent never
        took the call (the customer left before)."""
        ...
