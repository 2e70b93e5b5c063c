"""Small parsing helpers for AMI header values."""

from __future__ import annotations


def clean(value: str | None) -> str:
    return "" if value is None or value == "<unknown>" else value


def hms(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        return 0.0
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total
