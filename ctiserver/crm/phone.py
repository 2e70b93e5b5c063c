"""Caller-ID normalisation to E.164 with ``phonenumbers``.

``normalise("8 (495) 123-45-67", "RU") -> "+74951234567"``; a number that cannot be parsed, or an internal
extension (``1001``), gives ``None`` so the lookup reports "unknown" instead of matching a wrong contact.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_JUNK = re.compile(r"[^\d+]")


def normalise(number: str | None, default_region: str = "US") -> str | None:
    """The E.164 form of ``number`` (``+<country><national>``) or ``None`` when it is not a phone number."""
    if not number:
        return None
    return _normalise(number, default_region)


@lru_cache(maxsize=8192)  # a call's number is normalised several times (lookup, pop, history): parse it once
def _normalise(number: str, default_region: str) -> str | None:
    raw = number.strip()
    if raw.lower().startswith(("sip:", "tel:")):
        raw = raw[4:].split("@", 1)[0]
    digits = _JUNK.sub("", raw)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if len(digits.lstrip("+")) < 5:
        return None  # an extension or garbage
    try:
        parsed = phonenumbers.parse(digits, None if digits.startswith("+") else default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """The ISO region of an E.164 number (``+380...`` -> ``UA``), or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
