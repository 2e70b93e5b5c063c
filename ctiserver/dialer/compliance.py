"""A campaign's abandonment record: what a regulator asks to see (Ofcom: "records to demonstrate compliance";
the FTC's safe harbour: records of the abandonment rate per campaign per 30 days).

For a period, from the stored attempts (one aggregate query, ``DialerStore.live_answer_counts`` per hour):

* per UTC day: live answers, abandoned calls (nobody took them, or an agent too late), AMD's MACHINE verdicts
  and the false positives estimated among them (the rate in use, below), and the day's rate as the law
  counts it — (abandoned + estimated) / (live + estimated);
* the rolling window of the campaign's regime (24 h or 30 days), evaluated at every hour's end in the period
  and at its end, over the hour buckets the live ledger counts in: the worst one and how many of those ends
  had the window over the cap.

The false-positive rate is the one in use at the period's end — the AMD audit's measured one over the window
ending there once it has enough verdicts (``amd_audit.rate_in_use``), else the campaign's estimate — for every
verdict of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ctiserver.dialer.amd_audit import rate_in_use
from ctiserver.dialer.model import CampaignSettings, LedgerCounts
from ctiserver.dialer.store import DialerStore

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class DayRow:
    day: str  # ISO date, UTC
    live: int
    abandoned: int
    machines: int
    false_positives: float  # estimated: the false-positive rate in use × machines
    rate: float  # (abandoned + false_positives) / (live + false_positives)


@dataclass(frozen=True, slots=True)
class Window:
    end: float  # the rolling window [end - length, end), epoch seconds: an hour's end or the period's
    live: float  # false positives included
    abandoned: float
    rate: float


@dataclass(frozen=True, slots=True)
class AbandonmentRecord:
    campaign: str
    window: str  # "24h" or "30d"
    cap: float
    false_positive_rate: float
    since: float
    until: float
    days: list[DayRow]
    worst: Window | None  # the worst rolling window ending in the period (None: no live answer in any)
    hours_over_cap: int  # hour ends in the period (and its end) whose rolling window was over the cap


def _rate(abandoned: float, live: float) -> float:
    return abandoned / live if live else 0.0


def _days(counts: Sequence[LedgerCounts], since: float, until: float, fp: float) -> list[DayRow]:
    days: dict[str, list[int]] = {}
    for c in counts:
        if since <= c.start < until:
            n = days.setdefault(datetime.fromtimestamp(c.start, UTC).date().isoformat(), [0, 0, 0])
            n[0], n[1], n[2] = n[0] + c.live, n[1] + c.abandoned, n[2] + c.machines
    return [
        DayRow(day, live, abandoned, machines, fp * machines, _rate(abandoned + fp * machines, live + fp * machines))
        for day, (live, abandoned, machines) in sorted(days.items())
    ]


def _windows(
    counts: Sequence[LedgerCounts], settings: CampaignSettings, fp: float, since: float, until: float
) -> list[Window]:
    """The rolling window at each hour end in (since, until) and at ``until``, by prefix sums over the hour
    buckets (a window ending inside an hour counts that hour's bucket whole, as the live ledger does)."""
    length = settings.abandon_window_seconds
    ends, end = [], since - since % HOUR + HOUR
    while end < until:
        ends.append(end)
        end += HOUR
    ends.append(until)
    starts = [c.start for c in counts]
    live, abandoned = [0.0], [0.0]  # prefix sums, the estimate in both
    for c in counts:
        live.append(live[-1] + c.live + fp * c.machines)
        abandoned.append(abandoned[-1] + c.abandoned + fp * c.machines)
    out: list[Window] = []
    lo = hi = 0
    for end in ends:
        while hi < len(starts) and starts[hi] < end:
            hi += 1
        while lo < hi and starts[lo] + HOUR <= end - length:  # as the live ledger expires its buckets
            lo += 1
        lv, ab = live[hi] - live[lo], abandoned[hi] - abandoned[lo]
        if lv:
            out.append(Window(end, lv, ab, ab / lv))
    return out


async def abandonment_record(
    store: DialerStore, settings: CampaignSettings, since: float, until: float
) -> AbandonmentRecord:
    length = settings.abandon_window_seconds
    counts = [c for c in await store.live_answer_counts(settings.name, since - length, HOUR) if c.start < until]
    fp = await rate_in_use(store, settings, until - length)  # the AMD audit's measured rate, once it has one
    windows = _windows(counts, settings, fp, since, until)
    return AbandonmentRecord(
        campaign=settings.name,
        window=settings.abandon_window,
        cap=settings.abandon_cap,
        false_positive_rate=fp,
        since=since,
        until=until,
        days=_days(counts, since, until, fp),
        worst=max(windows, key=lambda w: w.rate, default=None),
        hours_over_cap=sum(1 for w in windows if w.rate > settings.abandon_cap),
    )
