"""CSV contact-list import: column mapping, E.164 normalisation, the callee's zone, custom fields, and a
report of the rejected rows with their reasons (the good rows are imported all the same).

The parsing is pure (``parse_rows``); ``ctiserver dialer import`` feeds it a file in chunks off the event loop
and draws a progress bar from the ``progress`` callback.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.numbers import BadNumber, timezone_of, to_e164
from ctiserver.dialer.windows import zone, zones_in


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which CSV column holds what. ``fields``: extra columns kept as custom fields (None: all the others)."""

    number: str = "phone"
    name: str | None = "name"
    id: str | None = "id"
    timezone: str | None = "timezone"  # an explicit zone overrides the one from the number
    fields: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, spec: str) -> ColumnMap:
        """``"number=Phone,name=Full Name,fields=city|plan"`` (from the CLI)."""
        values: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key not in ("number", "name", "id", "timezone", "fields"):
                raise ValueError(f"column mapping {part!r}: expected number=|name=|id=|timezone=|fields=")
            values[key] = tuple(v for v in value.split("|") if v) if key == "fields" else (value or None)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int  # 1-based line of the file (the header is line 1)
    reason: str
    row: Mapping[str, str]


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    spanning: int = 0  # numbers that may be in several zones: called only when the window is open in all

    def summary(self) -> str:
        return (
            f"{self.imported} imported, {len(self.rejected)} rejected"
            + (f", {self.duplicates} duplicate numbers skipped" if self.duplicates else "")
            + (
                f", {self.spanning} numbers in several time zones (called only when the window is open in all;"
                " a timezone column or the campaign's default_timezone says which)"
                if self.spanning
                else ""
            )
        )

    def write_rejects(self, out: io.TextIOBase | io.StringIO) -> None:
        writer = csv.writer(out)
        writer.writerow(["line", "reason", "row"])
        for r in self.rejected:
            writer.writerow([r.line, r.reason, "; ".join(f"{k}={v}" for k, v in r.row.items())])


@dataclass
class Zoning:
    """The campaign's say on the callee's zone: ``settings.default_timezone`` for a number that may be in
    several zones; a number whose zones' calling windows never overlap within 14 days of ``now`` is rejected
    (it could never be called). Without it: the zones of the number, unchecked."""

    settings: CampaignSettings
    now: float
    _overlap: dict[str, bool] = field(default_factory=dict)  # per zone list: the same prefixes repeat

    def check(self, tz: str) -> None:
        if tz not in self._overlap:
            self._overlap[tz] = self.settings.windows.next_open(tz, self.now) is not None
        if not self._overlap[tz]:
            zones = zones_in(tz)
            raise ValueError(
                f"the number may be in any of {len(zones)} time zones ({zones[0]} … {zones[-1]}) whose calling"
                " windows never overlap: give its zone (a timezone column) or the campaign's default_timezone"
            )


def parse_rows(
    rows: Iterable[Mapping[str, str]],
    campaign: str,
    columns: ColumnMap,
    region: str = "US",
    *,
    report: ImportReport | None = None,
    seen: set[str] | None = None,
    first_line: int = 2,
    zoning: Zoning | None = None,
) -> Iterator[Contact]:
    """Contacts from CSV rows; bad rows land in ``report.rejected`` with a reason, never stop the import."""
    report = report if report is not None else ImportReport()
    seen = seen if seen is not None else set()
    for line, row in enumerate(rows, start=first_line):
        try:
            contact = _contact(row, campaign, columns, region, zoning)
        except (BadNumber, ValueError) as exc:
            report.rejected.append(Rejected(line, str(exc), dict(row)))
            continue
        if contact.number in seen:
            report.duplicates += 1
            continue
        seen.add(contact.number)
        report.imported += 1
        report.spanning += len(zones_in(contact.timezone)) > 1
        yield contact


def _contact(row: Mapping[str, str], campaign: str, columns: ColumnMap, region: str, zoning: Zoning | None) -> Contact:
    if columns.number not in row:
        raise ValueError(f"no column {columns.number!r}")
    number = to_e164(row.get(columns.number) or "", region)
    tz = (row.get(columns.timezone) or "").strip() if columns.timezone else ""
    if tz:
        for name in zones_in(tz):
            zone(name)  # raises ValueError for an unknown zone
    else:
        tz = timezone_of(number, default=zoning.settings.default_timezone if zoning else None)
    if zoning is not None and len(zones_in(tz)) > 1:
        zoning.check(tz)
    used = {c for c in (columns.number, columns.name, columns.id, columns.timezone) if c}
    keep = columns.fields if columns.fields is not None else tuple(k for k in row if k and k not in used)
    custom = {k: (row.get(k) or "").strip() for k in keep if k in row}
    cid = (row.get(columns.id) or "").strip() if columns.id else ""
    return Contact(
        id=cid or uuid.uuid4().hex[:16],
        campaign=campaign,
        number=number,
        timezone=tz,
        name=(row.get(columns.name) or "").strip() if columns.name else "",
        fields=custom,
    )


def read_csv(
    text_lines: Iterable[str],
    campaign: str,
    columns: ColumnMap,
    region: str = "US",
    *,
    report: ImportReport,
    progress: Callable[[int], None] | None = None,
    zoning: Zoning | None = None,
) -> Iterator[Contact]:
    """Parse a CSV text stream (header row first); ``progress(rows_done)`` every 500 rows."""
    reader = csv.DictReader(text_lines)
    if reader.fieldnames is None:
        return
    if columns.number not in reader.fieldnames:
        raise ValueError(
            f"the file has no column {columns.number!r} (columns: {', '.join(reader.fieldnames)}); "
            "map it with --map number=<column>"
        )
    seen: set[str] = set()
    done = 0
    for row in reader:
        done += 1
        line = reader.line_num
        yield from parse_rows(
            [row], campaign, columns, region, report=report, seen=seen, first_line=line, zoning=zoning
        )
        if progress is not None and done % 500 == 0:
            progress(done)
    if progress is not None:
        progress(done)
