"""The key a caller's number is compared by (repeat-based FCR): E.164 when ``phonenumbers`` reads it, else its
digits (internal test numbers, short codes); None when the caller is anonymous. Written with each call row
(``calls.caller_key``, "" for None) so a report compares stored keys instead of parsing every number again."""

from __future__ import annotations

import re
from functools import lru_cache

from ctiserver.crm.phone import normalise

_DIGITS = re.compile(r"\D")


def normalise_number(number: str | None, region: str = "US") -> str | None:
    if not number:
        return None
    return _normalised(number, region)


@lru_cache(maxsize=200_000)  # ~50 µs per phonenumbers parse: reports over the same callers reuse it
def _normalised(number: str, region: str) -> str | None:
    if number.lower() in ("anonymous", "unknown", "<unknown>", "restricted"):
        return None
    e164 = normalise(number, region)
    if e164:
        return e164
    digits = _DIGITS.sub("", number)
    return digits or None


def caller_key(number: str | None, region: str = "US") -> str:
    """``calls.caller_key``: the normalised number, "" when there is none to compare."""
    return normalise_number(number, region) or ""
