"""Calling windows in the callee's local time: per weekday ranges and holidays (no call on those dates)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


END_OF_DAY = dt.time.max  # a window ending "24:00": open to midnight (the day's last minute included)


def _parse_range(text: str) -> tuple[dt.time, dt.time]:
    try:
        start_s, end_s = text.split("-")
        start = dt.time.fromisoformat(start_s.strip())
        end = END_OF_DAY if end_s.strip() == "24:00" else dt.time.fromisoformat(end_s.strip())
    except ValueError as exc:
        raise ValueError(f"calling window {text!r}: expected HH:MM-HH:MM") from exc
    if end <= start:
        raise ValueError(f"calling window {text!r}: the end must be after the start")
    return start, end


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _default_days() -> dict[str, tuple[str, ...]]:
    days: dict[str, tuple[str, ...]] = {d: ("09:00-20:00",) for d in WEEKDAYS[:5]}
    days["sat"] = ("10:00-18:00",)
    return days


class CallingWindows(BaseModel):
    """``{"mon": ["09:00-12:00", "13:00-20:00"], ...}``; a weekday not listed has no window.

    Default: 09:00–20:00 Monday to Friday, 10:00–18:00 Saturday, nothing on Sunday (inside the US TCPA
    8:00–21:00 and stricter EU rules).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: dict[str, tuple[str, ...]] = Field(default_factory=_default_days)
    holidays: tuple[dt.date, ...] = ()

    @field_validator("days")
    @classmethod
    def _check(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, ranges in v.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for r in ranges:
                _parse_range(r)
        return v

    def is_open(self, tz: str, when: float) -> bool:
        """Is ``when`` (epoch seconds) inside a window in the zone ``tz`` — in every one of them when ``tz``
        lists several, comma-separated (a number that may be in any of them: ``numbers.timezone_of``)?"""
        return all(self._open_in(z, when) for z in zones_in(tz))

    def _open_in(self, tz: str, when: float) -> bool:
        local = dt.datetime.fromtimestamp(when, zone(tz))
        if local.date() in self.holidays:
            return False
        t = local.time().replace(tzinfo=None)
        for r in self.days.get(WEEKDAYS[local.weekday()], ()):
            start, end = _parse_range(r)
            if start <= t and (t < end or end == END_OF_DAY):
                return True
        return False

    def next_open(self, tz: str, when: float, horizon_days: int = 14) -> float | None:
        """The first epoch second at or after ``when`` inside a window (None if none within the horizon); with
        several zones, inside a window in all of them (such a span opens when one of its zones' windows does)."""
        if self.is_open(tz, when):
            return when
        candidates: list[float] = []
        for name in zones_in(tz):
            z = zone(name)
            local = dt.datetime.fromtimestamp(when, z)
            for offset in range(horizon_days + 1):
                day = local.date() + dt.timedelta(days=offset)
                if day in self.holidays:
                    continue
                for r in self.days.get(WEEKDAYS[day.weekday()], ()):
                    start, _end = _parse_range(r)
                    candidate = dt.datetime.combine(day, start, z).timestamp()
                    if candidate >= when:
                        candidates.append(candidate)
        return next((c for c in sorted(candidates) if self.is_open(tz, c)), None)


def zones_in(tz: str) -> tuple[str, ...]:
    """The zones of a contact's ``timezone``: one name, or several comma-separated."""
    return tuple(z.strip() for z in tz.split(",") if z.strip())
