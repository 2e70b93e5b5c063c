"""First-contact resolution.

* **Repeat-based**: a contact from a (normalised) number is resolved at first contact when the same number
  does not contact us again within ``window`` seconds (default 24 h). FCR = resolved / contacts with a
  known number. A contact is judged once it has repeated or its window is over (``now``), so the rate
  never flatters itself with calls that may still repeat.
* **Disposition-based**: calls whose agent disposition is in ``resolved_codes`` / calls with a disposition.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

from ctiserver.store.caller_key import normalise_number

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class FcrResult:
    contacts: int
    resolved: int

    @property
    def rate(self) -> float | None:
        return self.resolved / self.contacts if self.contacts else None


def repeat_judgements(
    contacts: Iterable[tuple[K, str | None, float]],
    *,
    window: float = 86_400.0,
    start: float | None = None,
    end: float | None = None,
    now: float | None = None,
    region: str = "US",
) -> dict[K, bool]:
    """``contacts`` are (key, caller number, time), including those up to ``end + window`` so repeats after
    the period are seen. Returns, for each judged contact (in [start, end), with a known number, whose window
    has elapsed by ``now`` or that has already repeated), whether it was resolved at first contact."""
    keyed = ((key, normalise_number(number, region), at) for key, number, at in contacts)
    return judge_keyed(keyed, window=window, start=start, end=end, now=now)


def judge_keyed(
    contacts: Iterable[tuple[K, str | None, float]],
    *,
    window: float = 86_400.0,
    start: float | None = None,
    end: float | None = None,
    now: float | None = None,
) -> dict[K, bool]:
    """``repeat_judgements`` on numbers already normalised (None or "": no number to compare)."""
    by_number: dict[str, list[tuple[float, K]]] = defaultdict(list)
    for key, norm, at in contacts:
        if norm:
            by_number[norm].append((at, key))
    out: dict[K, bool] = {}
    for entries in by_number.values():
        entries.sort(key=lambda e: e[0])
        times = [t for t, _ in entries]
        for i, (t, key) in enumerate(entries):
            if (start is not None and t < start) or (end is not None and t >= end):
                continue
            nxt = bisect_right(times, t, lo=i + 1)
            repeated = nxt < len(times) and times[nxt] <= t + window and (now is None or times[nxt] <= now)
            if not repeated and now is not None and t + window > now:
                continue  # may still repeat: not judged yet
            out[key] = not repeated
    return out


def fcr_of(judged: Iterable[bool]) -> FcrResult:
    total = ok = 0
    for resolved in judged:
        total += 1
        ok += resolved
    return FcrResult(total, ok)


def fcr_repeat(
    contacts: Iterable[tuple[str | None, float]],
    *,
    window: float = 86_400.0,
    start: float | None = None,
    end: float | None = None,
    now: float | None = None,
    region: str = "US",
) -> FcrResult:
    """``contacts`` are (caller number, time) pairs; see ``repeat_judgements``."""
    judged = repeat_judgements(
        ((i, n, t) for i, (n, t) in enumerate(contacts)),
        window=window,
        start=start,
        end=end,
        now=now,
        region=region,
    )
    return fcr_of(judged.values())


def fcr_disposition(
    dispositions: Iterable[str | None], resolved_codes: Collection[str] = ("resolved",)
) -> FcrResult:
    return fcr_disposition_counted(((d, 1) for d in dispositions), resolved_codes)


def fcr_disposition_counted(
    counts: Iterable[tuple[str | None, int]], resolved_codes: Collection[str] = ("resolved",)
) -> FcrResult:
    """``counts``: (disposition, number of calls) pairs, e.g. a SQL ``GROUP BY disposition``."""
    codes = {c.lower() for c in resolved_codes}
    total = ok = 0
    for d, n in counts:
        if d:
            total += n
            ok += n if d.lower() in codes else 0
    return FcrResult(total, ok)
