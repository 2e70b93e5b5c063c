"""Validation messages with a place: ``file:line:column: message`` (warnings say ``warning:``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        tag = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.file}:{self.line}:{self.column}: {tag}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class ScriptInvalid(ValueError):
    """A script did not pass validation; ``diagnostics`` holds every message (errors and warnings).
    A ``ValueError``: bad input, mapped to 422 by the API."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        super().__init__("\n".join(str(d) for d in errors) or "invalid script")


def errors_of(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.is_error]
