"""What a campaign knew before a restart (or a re-configuration), rebuilt from the stored attempts.

* The **abandonment ledger** of the regulatory window (30 days or 24 h): the live answers and abandons of the
  attempts that ended in it, counted per ledger bucket by the store (one aggregate query, not a row per call).
* The **pacer's statistics** (``DialStats``): only attempts that ended in the last ``WARM_HORIZON`` (4 h) —
  today's answer rate and delays drive today's pacing, not those of a day or a week ago (other hours, other
  lists, other callees) — and at most as many as ``DialStats`` keeps: the last ``window`` attempts for the
  answer rate and the no-answer delays, the last ``window`` live answers for the answer delays, talk times and
  the rolling abandonment rate. A restart within the working day so goes on predictive at once; after a night
  (or 4 h without calls) the campaign measures again, progressive meanwhile.
"""

from __future__ import annotations

from ctiserver.dialer.model import AttemptRecord
from ctiserver.dialer.stats import AbandonLedger, DialStats
from ctiserver.dialer.store import LIVE, DialerStore

WARM_HORIZON = 4 * 3600.0


async def rebuild_ledger(store: DialerStore, campaign: str, ledger: AbandonLedger, now: float) -> None:
    counts = await store.live_answer_counts(campaign, now - ledger.window, ledger.bucket_seconds)
    ledger.load(counts, now)


async def warm_stats(
    store: DialerStore, campaign: str, stats: DialStats, now: float, horizon: float = WARM_HORIZON
) -> int:
    """Seed ``stats`` from the attempts that ended within ``horizon`` s; how many attempts were read."""
    since = now - horizon
    recent = await store.attempts_since(campaign, since, limit=stats.window)
    live = await store.attempts_since(campaign, since, outcomes=LIVE, limit=stats.window)
    stats.warm(
        [(r.outcome in LIVE, _result_delay(r)) for r in reversed(recent)],
        [(_answer_delay(r), r.talk_seconds, r.abandoned) for r in reversed(live)],
    )
    return len(recent)


def _answer_delay(r: AttemptRecord) -> float | None:
    return None if r.answered is None else r.answered - r.started


def _result_delay(r: AttemptRecord) -> float:
    """Dial → the line's result, as the runner measured it: the answer (a machine's: after AMD), else the end."""
    return (r.ended if r.answered is None else r.answered) - r.started
