"""Business-hours schedules: weekly hours, holidays and a timezone (``zoneinfo``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ScheduleState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


class ScheduleError(ValueError):
    """``where`` is the key inside the schedule mapping that is wrong (``("weekly", "mon-fri")``...)."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    timezone: ZoneInfo
    weekly: Mapping[int, tuple[tuple[int, int], ...]]  # weekday (0 = Monday) -> [start, end) minutes
    holidays: Mapping[dt.date, str] = field(default_factory=dict)

    def state(self, at: dt.datetime) -> ScheduleState:
        local = at.astimezone(self.timezone)
        if local.date() in self.holidays:
            return ScheduleState.HOLIDAY
        minute = local.hour * 60 + local.minute
        for start, end in self.weekly.get(local.weekday(), ()):
            if start <= minute < end:
                return ScheduleState.OPEN
        return ScheduleState.CLOSED


def _days(spec: str) -> list[int]:
    out: list[int] = []
    for part in str(spec).lower().replace(" ", "").split(","):
        if "-" in part:
            a, _, b = part.partition("-")
            if a not in DAYS or b not in DAYS:
                raise ValueError(f"bad day range {part!r} (days are {', '.join(DAYS)})")
            i, j = DAYS.index(a), DAYS.index(b)
            out.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            raise ValueError(f"bad day {part!r} (days are {', '.join(DAYS)})")
    return out


def _ranges(value: Any) -> list[tuple[int, int]]:
    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in items:
        text = str(item)
        if text.strip().lower() == "closed":
            continue
        m = _RANGE.match(text)
        if not m:
            raise ValueError(f"bad time range {text!r} (expected HH:MM-HH:MM, quoted)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or end > 24 * 60 or end <= start:
            raise ValueError(f"bad time range {text!r} (end must be after start, within 00:00-24:00)")
        out.append((start, end))
    return out


def parse_schedule(name: str, raw: Any) -> Schedule:
    """Parse one ``schedules:`` entry; raises ``ScheduleError`` naming the offending key."""
    if not isinstance(raw, dict):
        raise ScheduleError((), f"schedule {name!r} must be a mapping with timezone, weekly, holidays")
    unknown = set(raw) - {"timezone", "weekly", "holidays"}
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise ScheduleError((key,), f"schedule {name!r}: unknown field {key!r}")
    tz_name = raw.get("timezone", "UTC")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(("timezone",), f"schedule {name!r}: unknown timezone {tz_name!r}") from None
    weekly: dict[int, list[tuple[int, int]]] = {}
    raw_weekly = raw.get("weekly") or {}
    if not isinstance(raw_weekly, dict):
        raise ScheduleError(("weekly",), f"schedule {name!r}: weekly must map days to hours")
    for spec, hours in raw_weekly.items():
        try:
            for day in _days(str(spec)):
                weekly.setdefault(day, []).extend(_ranges(hours))
        except ValueError as exc:
            raise ScheduleError(("weekly", spec), f"schedule {name!r}: {exc}") from None
    holidays: dict[dt.date, str] = {}
    raw_holidays = raw.get("holidays") or []
    if not isinstance(raw_holidays, list):
        raise ScheduleError(("holidays",), f"schedule {name!r}: holidays must be a list of dates")
    for i, item in enumerate(raw_holidays):
        when: Any
        label: str
        when, label = (item.get("date"), str(item.get("name", ""))) if isinstance(item, dict) else (item, "")
        if isinstance(when, str):
            try:
                when = dt.date.fromisoformat(when)
            except ValueError:
                pass
        if not isinstance(when, dt.date) or isinstance(when, dt.datetime):
            raise ScheduleError(("holidays", i), f"schedule {name!r}: bad holiday date {when!r} (YYYY-MM-DD)")
        holidays[when] = label
    return Schedule(name, tz, {d: tuple(sorted(r)) for d, r in weekly.items()}, holidays)
