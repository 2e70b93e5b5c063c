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


def zones_of(e164: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in (phonenumbers' order): one for most fixed lines, several for a
    country's or area's mobile and non-geographic numbers (a Russian mobile: 16, a US toll-free number: 42);
    none when unknown."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(str(z) for z in zones if z and z != _UNKNOWN_TZ)


def timezone_of(e164: str, fallback: str = "UTC", default: str | None = None) -> str:
    """The callee's zone as a contact keeps it: the number's one zone; for a number that may be in several,
    ``default`` (the campaign's ``default_timezone``) if given, else all of them comma-separated — the calling
    window must then be open in every one (``CallingWindows.is_open``): not the first of them, which put the
    windows of a Moscow mobile in Almaty's time (calls from 07:00) and of an Australian one in Adelaide's
    (06:30 in Perth); ``fallback`` when unknown."""
    zones = zones_of(e164)
    if len(zones) > 1:
        return default or ",".join(zones)
    return zones[0] if zones else fallback
