"""A campaign's productivity per UTC day (by when each attempt started): what a supervisor reads the morning
after — attempts and contacts dialled, the outcomes, the answer and connect rates, agents' talk time and its
average per connected call, abandoned (nobody within two seconds, or an agent too late). Two aggregate queries
(``DialerStore.day_outcomes``); the CLI, the API and the CSV share these rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ctiserver.dialer.model import DayOutcome, Outcome
from ctiserver.dialer.store import DialerStore

ANSWERED = (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)
COLUMNS = (
    "day", "attempts", "contacts", *(o.value for o in Outcome), "connected", "late", "abandoned_total",
    "answer_rate", "connect_rate", "talk_seconds", "avg_talk",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportDay:
    day: str  # ISO date, UTC
    attempts: int
    contacts: int  # dialled that day, each once
    outcomes: dict[str, int] = field(default_factory=dict)  # every outcome, 0 when none
    connected: int = 0  # reached an agent
    late: int = 0  # of them past the two seconds after the greeting (abandoned in law)
    abandoned_total: int = 0  # abandoned + late
    answer_rate: float = 0.0  # answered (live, abandoned or machine) / attempts
    connect_rate: float = 0.0  # connected / attempts
    talk_seconds: float = 0.0
    avg_talk: float | None = None  # per connected call

    def cells(self) -> list[object]:
        """The row in ``COLUMNS`` order (CSV)."""
        head: list[object] = [self.day, self.attempts, self.contacts]
        tail = [self.connected, self.late, self.abandoned_total, round(self.answer_rate, 4),
                round(self.connect_rate, 4), round(self.talk_seconds, 1),
                "" if self.avg_talk is None else round(self.avg_talk, 1)]  # fmt: skip
        return [*head, *(self.outcomes[o.value] for o in Outcome), *tail]


def _day(rows: list[DayOutcome], contacts: int) -> ReportDay:
    outcomes = {o.value: 0 for o in Outcome}
    for r in rows:
        outcomes[r.outcome.value] += r.attempts
    attempts = sum(r.attempts for r in rows)
    connected = sum(r.connected for r in rows)
    talk = sum(r.talk_seconds for r in rows)
    late = sum(r.late for r in rows)
    answered = sum(outcomes[o.value] for o in ANSWERED)
    return ReportDay(
        day=datetime.fromtimestamp(rows[0].day, UTC).date().isoformat(),
        attempts=attempts,
        contacts=contacts,
        outcomes=outcomes,
        connected=connected,
        late=late,
        abandoned_total=outcomes[Outcome.ABANDONED.value] + late,
        answer_rate=answered / attempts if attempts else 0.0,
        connect_rate=connected / attempts if attempts else 0.0,
        talk_seconds=talk,
        avg_talk=talk / connected if connected else None,
    )


async def campaign_report(store: DialerStore, campaign: str, since: float, until: float) -> list[ReportDay]:
    rows, contacts = await store.day_outcomes(campaign, since, until)
    by_day: dict[float, list[DayOutcome]] = {}
    for r in rows:
        by_day.setdefault(r.day, []).append(r)
    return [_day(day_rows, contacts.get(day, 0)) for day, day_rows in sorted(by_day.items())]


def report_csv(days: Sequence[ReportDay]) -> str:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(COLUMNS)
    w.writerows(d.cells() for d in days)
    return out.getvalue()
