"""First-contact resolution.

* **Repeat-based**: a contact from a (normalised) number is resolved at first contact when the same number
  does not contact us again within ``window`` seconds (default 24 h). FCR = resolved / contacts with a
  known number. A contact is judged once it has repeated or its window is over (``now``), so the rate
  never flatters itself with calls that may still repeat.
* **Disposition-based**: calls whose agent disposition is in ``resolved_codes`` / calls with a disposition.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

_DIGITS = re.compile(r"\D")


def normalise_number(number: str | None, region: str = "US") -> str | None:
    """E.164 when the number parses; otherwise its digits (internal test numbers); None when anonymous."""
    if not number or number.lower() in ("anonymous", "unknown", "<unknown>", "restricted"):
        return None
    try:
        from ctiserver.crm.phone import normalise
    except ImportError:  # pragma: no cover - crm is part of the same package
        normalise = None  # type: ignore[assignment]
    if normalise is not None:
        e164 = normalise(number, region)
        if e164:
            return e164
    digits = _DIGITS.sub("", number)
    return digits or None


@dataclass(frozen=True, slots=True)
class FcrResult:
    contacts: int
    resolved: int

    @property
    def rate(self) -> float | None:
        return self.resolved / self.contacts if self.contacts else None


def fcr_repeat(
    contacts: Iterable[tuple[str | None, float]],
    *,
    window: float = 86_400.0,
    start: float | None = None,
    end: float | None = None,
    now: float | None = None,
    region: str = "US",
) -> FcrResult:
    """``contacts`` are (caller number, time) pairs, including those up to ``end + window`` so repeats after
    the period are seen. Only contacts in [start, end) whose window has elapsed by ``now`` are judged."""
    by_number: dict[str, list[float]] = defaultdict(list)
    for number, at in contacts:
        key = normalise_number(number, region)
        if key is not None:
            by_number[key].append(at)
    judged = resolved = 0
    for times in by_number.values():
        times.sort()
        for i, t in enumerate(times):
            if (start is not None and t < start) or (end is not None and t >= end):
                continue
            nxt = bisect_right(times, t, lo=i + 1)
            repeated = nxt < len(times) and times[nxt] <= t + window and (now is None or times[nxt] <= now)
            if not repeated and now is not None and t + window > now:
                continue  # may still repeat: not judged yet
            judged += 1
            resolved += not repeated
    return FcrResult(judged, resolved)


def fcr_disposition(
    dispositions: Iterable[str | None], resolved_codes: Collection[str] = ("resolved",)
) -> FcrResult:
    codes = {c.lower() for c in resolved_codes}
    total = ok = 0
    for d in dispositions:
        if d:
            total += 1
            ok += d.lower() in codes
    return FcrResult(total, ok)
