"""AMI ``Filter`` (``Operation: Add``): event filters of one manager session, as Asterisk 22 applies them.

A filter is either a legacy regular expression matched against the whole event (``!`` in front excludes) or
``MatchCriteria: [action(include|exclude)][,name(<event>)][,header(<header>)][,<method>]`` with ``Filter`` matched
by ``<method>`` (regex — the default —, exact, startsWith, endsWith, contains or none) against the named
header's value, or the whole event when no header is named; ``name(...)`` limits the filter to one event.
The rules of manager.conf.sample: no filter lets every event through; only include filters: an event passes
when one matches; only exclude filters: unless one matches; both: the includes first, then the excludes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_CRITERION = re.compile(r"^(action|name|header)\((.*)\)$")
METHODS = ("regex", "exact", "startswith", "endswith", "contains", "none")


@dataclass(frozen=True, slots=True)
class AmiFilter:
    exclude: bool
    pattern: str
    name: str | None = None
    header: str | None = None
    method: str = "regex"

    def matches(self, headers: Sequence[tuple[str, str]]) -> bool:
        if self.name is not None and (not headers or headers[0][1] != self.name):
            return False
        if self.header is None:
            subject = "".join(f"{k}: {v}\r\n" for k, v in headers)
        else:
            wanted = self.header.lower()
            found = next((v for k, v in headers if k.lower() == wanted), None)
            if found is None:
                return False
            subject = found
        method, pattern = self.method, self.pattern
        if method == "regex":
            return re.search(pattern, subject) is not None
        if method == "exact":
            return subject == pattern
        if method == "startswith":
            return subject.startswith(pattern)
        if method == "endswith":
            return subject.endswith(pattern)
        if method == "contains":
            return pattern in subject
        return True  # none: the name/header criteria alone


def parse(criteria: str | None, pattern: str) -> AmiFilter:
    """One ``Filter`` action's fields as a filter; ``ValueError`` for criteria or a regex that do not parse."""
    if not criteria:
        exclude = pattern.startswith("!")
        pattern = pattern[1:] if exclude else pattern
        re.compile(pattern)
        return AmiFilter(exclude, pattern)
    exclude, name, header, method = False, None, None, "regex"
    for part in (p.strip() for p in criteria.split(",") if p.strip()):
        m = _CRITERION.match(part)
        if m is None:
            if part.lower() not in METHODS:
                raise ValueError(f"unknown match criterion {part!r}")
            method = part.lower()
        elif m.group(1) == "action":
            if m.group(2) not in ("include", "exclude"):
                raise ValueError(f"unknown action {m.group(2)!r}")
            exclude = m.group(2) == "exclude"
        elif m.group(1) == "name":
            name = m.group(2)
        else:
            header = m.group(2)
    if method == "regex":
        re.compile(pattern)
    return AmiFilter(exclude, pattern, name, header, method)


def passes(filters: Sequence[AmiFilter], headers: Sequence[tuple[str, str]]) -> bool:
    includes = [f for f in filters if not f.exclude]
    if includes and not any(f.matches(headers) for f in includes):
        return False
    return not any(f.matches(headers) for f in filters if f.exclude)
