"""Dialable numbers: E.164 normalisation with the reason a number is refused, and the callee's time zone."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import timezone as pn_timezone

_JUNK = re.compile(r"[^\d+]")
_UNKNOWN_TZ = "Etc/Unknown"


class BadNumber(ValueError):
    """A number that cannot be dialled; the message says why."""


def to_e164(raw: str, region: str = "US") -> str:
    """``"(415) 555-2671"`` → ``"+14155552671"``; raises ``BadNumber`` with the reason."""
    text = (raw or "").strip()
    if not text:
        raise BadNumber("empty number")
    digits = _JUNK.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not digits.strip("+"):
        raise BadNumber(f"no digits in {text!r}")
    try:
        parsed = phonenumbers.parse(digits, None if digits.startswith("+") else region.upper())
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"cannot parse {text!r}: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise BadNumber(f"{text!r} has an impossible length")
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(f"{text!r} is not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def timezone_of(e164: str, fallback: str = "UTC") -> str:
    """The callee's IANA zone from the number; for a country or area with several zones, the first
    (phonenumbers' order); ``fallback`` when unknown."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return fallback
    for z in zones:
        if z and z != _UNKNOWN_TZ:
            return str(z)
    return fallback
