from __future__ import annotations

import pytest

from ctiserver.crm.phone import normalise, region_of


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+7 (495) 123-45-67", "US", "+74951234567"),
        ("8 495 123 45 67", "RU", "+74951234567"),
        ("84951234567", "RU", "+74951234567"),
        ("+380 44 123 4567", "RU", "+380441234567"),
        ("044 123 4567", "UA", "+380441234567"),
        ("00380441234567", "PL", "+380441234567"),
        ("+48 22 123 45 67", "UA", "+48221234567"),
        ("22 123 45 67", "PL", "+48221234567"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("sip:+74951234567@trunk", "US", "+74951234567"),
        ("1001", "RU", None),  # an internal extension
        ("anonymous", "RU", None),
        ("", "RU", None),
        (None, "RU", None),
        ("+7 12", "RU", None),
    ],
)
def test_normalise(raw: str | None, region: str, expected: str | None) -> None:
    assert normalise(raw, region) == expected


def test_region_of() -> None:
    assert region_of("+380441234567") == "UA"
    assert region_of("+48221234567") == "PL"
