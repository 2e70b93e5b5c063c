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

from ctiserver.dialer.model import Contact
from ctiserver.dialer.numbers import BadNumber, timezone_of, to_e164
from ctiserver.dialer.windows import zone


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

    def summary(self) -> str:
        return f"{self.imported} imported, {len(self.rejected)} rejected" + (
            f", {self.duplicates} duplicate numbers skipped" if self.duplicates else ""
        )

    def write_rejects(self, out: io.TextIOBase | io.StringIO) -> None:
        writer = csv.writer(out)
        writer.writerow(["line", "reason", "row"])
        for r in self.rejected:
            writer.writerow([r.line, r.reason, "; ".join(f"{k}={v}" for k, v in r.row.items())])


def parse_rows(
    rows: Iterable[Mapping[str, str]],
    campaign: str,
    columns: ColumnMap,
    region: str = "US",
    *,
    report: ImportReport | None = None,
    seen: set[str] | None = None,
    first_line: int = 2,
) -> Iterator[Contact]:
    """Contacts from CSV rows; bad rows land in ``report.rejected`` with a reason, never stop the import."""
    report = report if report is not None else ImportReport()
    seen = seen if seen is not None else set()
    for line, row in enumerate(rows, start=first_line):
        try:
            contact = _contact(row, campaign, columns, region)
        except (BadNumber, ValueError) as exc:
            report.rejected.append(Rejected(line, str(exc), dict(row)))
            continue
        if contact.number in seen:
            report.duplicates += 1
            continue
        seen.add(contact.number)
        report.imported += 1
        yield contact


def _contact(row: Mapping[str, str], campaign: str, columns: ColumnMap, region: str) -> Contact:
    if columns.number not in row:
        raise ValueError(f"no column {columns.number!r}")
    number = to_e164(row.get(columns.number) or "", region)
    tz = (row.get(columns.timezone) or "").strip() if columns.timezone else ""
    if tz:
        zone(tz)  # raises ValueError for an unknown zone
    else:
        tz = timezone_of(number)
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
        yield from parse_rows([row], campaign, columns, region, report=report, seen=seen, first_line=line)
        if progress is not None and done % 500 == 0:
            progress(done)
    if progress is not None:
        progress(done)
