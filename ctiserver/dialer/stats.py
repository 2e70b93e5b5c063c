"""What the dialer has measured: answer rate, answer delays, talk times, and the abandonment ledger.

The predictive pacer estimates everything from these rolling samples (never from configuration guesses), and
the abandonment ledger enforces the legal cap over its window (e.g. 3 % per 30 days, or per 24 h).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ctiserver.dialer.model import LedgerCounts


class Samples:
    """A bounded window of duration samples with a cached sorted copy for survival-function look-ups."""

    def __init__(self, maxlen: int = 500) -> None:
        self._values: deque[float] = deque(maxlen=maxlen)
        self._sorted: list[float] | None = None

    def add(self, value: float) -> None:
        self._values.append(max(0.0, value))
        self._sorted = None

    def __len__(self) -> int:
        return len(self._values)

    def _ordered(self) -> list[float]:
        if self._sorted is None:
            self._sorted = sorted(self._values)
        return self._sorted

    def cdf(self, x: float) -> float:
        """P(sample <= x), empirical."""
        ordered = self._ordered()
        if not ordered:
            return 0.0
        return bisect.bisect_right(ordered, x) / len(ordered)

    def mean(self, default: float = 0.0) -> float:
        return sum(self._values) / len(self._values) if self._values else default

    def quantile(self, q: float, default: float = 0.0) -> float:
        ordered = self._ordered()
        if not ordered:
            return default
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


class DialStats:
    """Rolling outcome statistics of one campaign, fed by whoever watches the calls (dialer or simulation)."""

    def __init__(self, window: int = 500) -> None:
        self.window = window
        self.outcomes: deque[bool] = deque(maxlen=window)  # True = live answer
        self.answer_delay = Samples(window)  # dial → answer, live answers
        self.fail_delay = Samples(window)  # dial → end, everything not answered live
        self.talk = Samples(window)
        # of the wait for an agent, how much was gone when a live answer reached the dialer (with AMD: the
        # silence after the greeting that made it say HUMAN — the law's two seconds run from the greeting)
        self.grace_used = Samples(window)
        self.recent_live: deque[bool] = deque(maxlen=400)  # True = abandoned, one per live answer
        self.live_count = 0

    def record_attempt(self, live_answer: bool, delay: float) -> None:
        self.outcomes.append(live_answer)
        (self.answer_delay if live_answer else self.fail_delay).add(delay)

    def record_talk(self, seconds: float) -> None:
        self.talk.add(seconds)

    def record_grace_used(self, seconds: float) -> None:
        self.grace_used.add(seconds)

    def record_live(self, abandoned: bool) -> None:
        self.recent_live.append(abandoned)
        self.live_count += 1

    def amend_live(self) -> None:
        """The latest live answer recorded as served turned out abandoned."""
        for i in range(len(self.recent_live) - 1, -1, -1):
            if not self.recent_live[i]:
                self.recent_live[i] = True
                return

    def warm(
        self, attempts: Iterable[tuple[bool, float]], live: Iterable[tuple[float | None, float | None, bool]]
    ) -> None:
        """Seed the samples from stored history, oldest first (a restarted campaign): ``attempts`` as
        (answered live, seconds from dial to the line's result) — the outcomes and the no-answer delays;
        ``live`` as (answer delay, talk seconds, abandoned) per live answer — answer delays, talk times and the
        rolling abandonment rate (None: not known). ``live_count`` is left alone: the pacer's outer loop reads
        only live answers seen after the restart as news."""
        for answered, delay in attempts:
            self.outcomes.append(answered)
            if not answered:
                self.fail_delay.add(delay)
        for delay_, talk, abandoned in live:
            if delay_ is not None:
                self.answer_delay.add(delay_)
            if talk is not None:
                self.talk.add(talk)
            self.recent_live.append(abandoned)

    @property
    def answer_rate(self) -> float:
        return sum(self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def recent_abandon_rate(self) -> float:
        return sum(self.recent_live) / len(self.recent_live) if self.recent_live else 0.0

    def p_answer_given_ringing(self, elapsed: float) -> float:
        """P(a call still ringing after ``elapsed`` s will be answered live), Bayes on both delay samples."""
        p = self.answer_rate
        live = p * (1.0 - self.answer_delay.cdf(elapsed))
        dead = (1.0 - p) * (1.0 - self.fail_delay.cdf(elapsed))
        if live + dead <= 0.0:
            return 0.0
        return live / (live + dead)

    def p_answer_within(self, elapsed: float, horizon: float) -> float:
        """P(a call ringing for ``elapsed`` s is answered live within the next ``horizon`` s)."""
        p = self.answer_rate
        fa = self.answer_delay.cdf
        live = p * (1.0 - fa(elapsed))
        dead = (1.0 - p) * (1.0 - self.fail_delay.cdf(elapsed))
        if live + dead <= 0.0:
            return 0.0
        return p * (fa(elapsed + horizon) - fa(elapsed)) / (live + dead)

    def p_talk_ends_within(self, elapsed: float, horizon: float) -> float:
        """P(talk ends within ``horizon`` s | it has lasted ``elapsed`` s)."""
        if horizon <= 0:
            return 0.0
        survive = 1.0 - self.talk.cdf(elapsed)
        if survive <= 0.0:
            return 1.0
        return max(0.0, min(1.0, (self.talk.cdf(elapsed + horizon) - self.talk.cdf(elapsed)) / survive))


@dataclass
class _Bucket:
    start: float
    live: int = 0
    abandoned: int = 0
    machines: int = 0  # AMD's MACHINE verdicts (a share of them were people: ``false_positive_rate``)


class AbandonLedger:
    """Live answers and abandons per time bucket over the regulatory window (3 % per 30 days by default).

    ``would_allow_risk`` tells the pacer whether predictive dialling may continue: it must stop (fall back to
    progressive, which reserves an agent before dialling and so cannot abandon) before the cap can be passed.

    AMD's false positives are abandoned calls too — a person taken for a machine hears the machine message or
    is hung up on (Ofcom's policy: the rate includes "a reasoned estimate of AMD false positives"; the FTC's
    rule counts every call a person answered and no agent took). Each MACHINE verdict counts as
    ``false_positive_rate`` of a live answer that was abandoned: ``totals`` and the rate are the law's,
    (abandoned + r·machines) / (live + r·machines).
    """

    def __init__(
        self,
        cap: float = 0.03,
        window_seconds: float = 30 * 86400.0,
        bucket_seconds: float = 3600.0,
        stop_margin: float = 0.0015,
        false_positive_rate: float = 0.0,
    ) -> None:
        if not 0.0 < cap < 1.0:
            raise ValueError("abandonment cap must be between 0 and 1")
        if not 0.0 <= false_positive_rate < 1.0:
            raise ValueError("AMD false-positive rate must be in [0, 1)")
        self.false_positive_rate = false_positive_rate
        self.cap = cap
        self.window = window_seconds
        self.bucket_seconds = bucket_seconds
        self.stop_margin = stop_margin
        self._buckets: deque[_Bucket] = deque()

    def _bucket(self, now: float) -> _Bucket:
        start = now - (now % self.bucket_seconds)
        if not self._buckets or self._buckets[-1].start != start:
            self._buckets.append(_Bucket(start))
        self._expire(now)
        return self._buckets[-1]

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0].start + self.bucket_seconds <= now - self.window:
            self._buckets.popleft()

    def record(self, now: float, abandoned: bool) -> None:
        b = self._bucket(now)
        b.live += 1
        b.abandoned += int(abandoned)

    def record_machine(self, now: float) -> None:
        """An AMD MACHINE verdict (counted at ``false_positive_rate``)."""
        self._bucket(now).machines += 1

    def load(self, counts: Iterable[LedgerCounts], now: float) -> None:
        """Stored history into a fresh ledger, oldest first, per ``bucket_seconds`` (aligned on the epoch, as
        ``record`` does)."""
        for c in counts:
            if self._buckets and self._buckets[-1].start == c.start:
                b = self._buckets[-1]
                b.live, b.abandoned, b.machines = b.live + c.live, b.abandoned + c.abandoned, b.machines + c.machines
            else:
                self._buckets.append(_Bucket(c.start, c.live, c.abandoned, c.machines))
        self._expire(now)

    def amend(self, at: float) -> None:
        """A live answer recorded at ``at`` as served turned out abandoned (the agent never took it)."""
        for b in reversed(self._buckets):
            if b.start <= at:
                if b.start + self.bucket_seconds > at:
                    b.abandoned = min(b.live, b.abandoned + 1)
                return

    def forget(self, at: float, abandoned: bool) -> None:
        """A live answer recorded at ``at`` was a machine after all (the AMD audit): out of the counts."""
        for b in reversed(self._buckets):
            if b.start <= at:
                b.live = max(0, b.live - 1)
                b.abandoned = min(b.live, max(0, b.abandoned - int(abandoned)))
                return

    def totals(self, now: float) -> tuple[float, float]:
        """(live answers, abandoned) over the window as the law counts them: AMD's estimated false positives
        are in both."""
        self._expire(now)
        estimated = self.false_positive_rate * self.machines(now)
        return sum(b.live for b in self._buckets) + estimated, sum(b.abandoned for b in self._buckets) + estimated

    def machines(self, now: float) -> int:
        """AMD's MACHINE verdicts over the window."""
        self._expire(now)
        return sum(b.machines for b in self._buckets)

    def rate(self, now: float) -> float:
        live, abandoned = self.totals(now)
        return abandoned / live if live else 0.0

    def headroom(self, now: float) -> float:
        """How many more abandons the window tolerates right now (may be negative)."""
        live, abandoned = self.totals(now)
        return (self.cap - self.stop_margin) * live - abandoned

    def would_allow_risk(self, now: float) -> bool:
        return self.headroom(now) >= 1.0
