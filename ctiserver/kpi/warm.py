"""The live windows after a restart: today's stored queue stays, so that a wallboard's "today", "60 min" and
"15 min" do not start again from zero each time the daemon restarts (an upgrade mid-day, a crash).

The calls that ended today are read from ``queue_segments`` and ``calls`` and fed to the windows as the live
feed would have: the queue part of each stay when the caller left the queue (offered, answered, abandoned, its
wait), the handle part (talk, hold, wrap-up) when its call ended, in the order they ended. The calls still going
on (their checkpoints, ``live_calls``) add the queue part of the stays they already left; their handle part
comes with their ``call.ended``. The component
subscribes to the bus before it reads, and skips the events of the calls it read (``skip``): a call that ended
while the rows were read is counted once. The agents' time in states (occupancy) comes back from their stored
state changes (``acd_agent_events``, ``agent_history.state_changes``) up to the subscription: the live feed
brings the later ones (up to session 21 it started afresh at each restart).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.kpi.agent_history import Change, state_changes
from ctiserver.kpi.formulas import SegmentFact
from ctiserver.store.models import CallRow, LiveCallRow, QueueSegmentRow

S = QueueSegmentRow


async def stored_facts(
    sessions: async_sessionmaker[AsyncSession], since: float
) -> tuple[list[SegmentFact], set[str]]:
    """The live facts of the calls that ended since ``since``, in the order they ended, and those calls' ids."""
    q = (
        select(
            S.call_id,
            S.queue,
            S.entered,
            S.left,
            S.answered,
            S.outcome,
            S.wait_seconds,
            S.talk_seconds,
            S.hold_seconds,
            S.wrapup_seconds,
            S.agent,
            S.outbound,
            CallRow.ended,
        )
        .join(CallRow, CallRow.call_id == S.call_id)
        .where(CallRow.ended >= since)
    )
    async with sessions() as session:
        rows = (await session.execute(q)).all()
        going_on = (await session.execute(select(LiveCallRow.checkpoint))).scalars().all()
    facts: list[SegmentFact] = []
    calls: set[str] = set()
    for call_id, queue, entered, left, answered, outcome, wait, talk, hold, wrap, agent, outbound, ended in rows:
        calls.add(call_id)
        waited = float(wait or 0.0)
        left_queue = answered if answered is not None else (left if left is not None else entered)
        stay = SegmentFact(
            queue, entered, outcome, waited, agent=agent, ended=left_queue, kind="queue", outbound=bool(outbound)
        )
        facts.append(stay)
        if outcome == "answered":
            handle = replace(stay, talk=float(talk or 0.0), hold=float(hold or 0.0), wrap=float(wrap or 0.0))
            facts.append(replace(handle, ended=ended, kind="handle"))
    for checkpoint in going_on:
        for seg in checkpoint.get("queues") or []:
            left_queue = seg.get("answered") or seg.get("left")
            if seg.get("outcome") is None or left_queue is None or left_queue < since:
                continue
            wait = float(seg.get("wait_seconds") or 0.0)
            queue, entered, outcome = str(seg["queue"]), float(seg["entered"]), str(seg["outcome"])
            facts.append(
                SegmentFact(
                    queue,
                    entered,
                    outcome,
                    wait,
                    agent=seg.get("agent"),
                    ended=left_queue,
                    kind="queue",
                    outbound=bool(seg.get("outbound")),
                )
            )
    facts.sort(key=lambda f: f.ended if f.ended is not None else f.entered)
    return facts, calls


async def stored_changes(sessions: async_sessionmaker[AsyncSession], since: float, until: float) -> list[Change]:
    """The agents' state changes in [since, until), each agent's state at ``since`` first."""
    async with sessions() as session:
        return await state_changes(session, since, until)
