"""The campaign state machine: one enum, one transition table; an illegal transition raises.

    draft ─start─► running ◄─resume/pause─► paused
                     │  └─list exhausted─► completed ─start (new contacts)─► running
                     └─stop─► stopped ─start─► running        (paused/draft/completed ─stop─► stopped)

Paused: nothing new is dialled, calls in flight finish. Stopped: nothing new is dialled and calls still
ringing are hung up (answered calls are never cut).
"""

from __future__ import annotations

from enum import StrEnum


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


S = CampaignState

TRANSITIONS: dict[CampaignState, frozenset[CampaignState]] = {
    S.DRAFT: frozenset({S.RUNNING, S.STOPPED}),
    S.RUNNING: frozenset({S.PAUSED, S.STOPPED, S.COMPLETED}),
    S.PAUSED: frozenset({S.RUNNING, S.STOPPED}),
    S.STOPPED: frozenset({S.RUNNING}),
    S.COMPLETED: frozenset({S.RUNNING, S.STOPPED}),
}


class IllegalCampaignTransition(Exception):
    def __init__(self, campaign: str, src: CampaignState, dst: CampaignState) -> None:
        super().__init__(f"campaign {campaign}: cannot go from {src.value} to {dst.value}")
        self.campaign = campaign
        self.src = src
        self.dst = dst


def advance(campaign: str, src: CampaignState, dst: CampaignState) -> CampaignState:
    if dst not in TRANSITIONS[src]:
        raise IllegalCampaignTransition(campaign, src, dst)
    return dst
