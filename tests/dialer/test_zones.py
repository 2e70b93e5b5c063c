"""Numbers that may be in several time zones: the calling window must be open in every one of them.

phonenumbers places a Moscow mobile in any of Russia's zones (Asia/Almaty first), an Australian mobile in
any of Australia's (Adelaide first). Before session 22 the first zone was taken: a 09:00–20:00 window in
Almaty's time dialled Moscow from 07:00, and Adelaide's dialled Perth from 06:30."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ctiserver.dialer.importer import ColumnMap, ImportReport, Zoning, parse_rows
from ctiserver.dialer.model import CampaignSettings
from ctiserver.dialer.numbers import timezone_of, zones_of
from ctiserver.dialer.windows import CallingWindows, zones_in

MOSCOW_MOBILE = "+79161234567"
AU_MOBILE = "+61412345678"
WEEKDAYS_9_20 = CallingWindows(days={d: ("09:00-20:00",) for d in ("mon", "tue", "wed", "thu", "fri")})


def _at(local: str, tz: str) -> float:
    return dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).timestamp()


def test_a_number_in_several_zones_keeps_them_all_unless_the_campaign_says_which() -> None:
    assert timezone_of("+74951234567") == "Europe/Moscow"  # a Moscow landline: one zone
    assert len(zones_of(MOSCOW_MOBILE)) > 10 and zones_of(MOSCOW_MOBILE)[0] == "Asia/Almaty"
    assert zones_in(timezone_of(MOSCOW_MOBILE)) == zones_of(MOSCOW_MOBILE)
    assert timezone_of(MOSCOW_MOBILE, default="Europe/Moscow") == "Europe/Moscow"
    assert timezone_of("+4930123456", default="Europe/Moscow") == "Europe/Berlin"  # one zone: the number's


def test_the_window_is_open_only_where_it_is_open_in_every_zone() -> None:
    tz = timezone_of(AU_MOBILE)
    perth_0700 = _at("2026-11-25T07:00:00", "Australia/Perth")  # a Wednesday; 09:30 in Adelaide
    assert WEEKDAYS_9_20.is_open("Australia/Adelaide", perth_0700)
    assert not WEEKDAYS_9_20.is_open(tz, perth_0700)  # the first zone alone would have called Perth at 7:00
    opens = WEEKDAYS_9_20.next_open(tz, perth_0700)
    assert opens is not None
    for zone in zones_in(tz):
        local = dt.datetime.fromtimestamp(opens, ZoneInfo(zone)).time()
        assert dt.time(9) <= local < dt.time(20), zone
    # the westernmost zone's 09:00 is when the span opens (the Cocos Islands, UTC+6:30)
    assert dt.datetime.fromtimestamp(opens, ZoneInfo("Indian/Cocos")).time() == dt.time(9)
    assert not WEEKDAYS_9_20.is_open(tz, opens - 1)


def test_the_import_keeps_spanning_numbers_and_rejects_those_that_could_never_be_called() -> None:
    rows = [
        {"phone": MOSCOW_MOBILE, "name": "Ivan"},
        {"phone": "+74951234567", "name": "Olga"},
        {"phone": AU_MOBILE, "name": "Kylie", "timezone": "Australia/Perth"},
    ]
    now = _at("2026-11-24T12:00:00", "Europe/Moscow")
    narrow = CampaignSettings(name="ru", windows=CallingWindows(days={"mon": ("10:00-11:00",)}))
    report = ImportReport()
    got = list(parse_rows(rows, "ru", ColumnMap(), "RU", report=report, zoning=Zoning(narrow, now)))
    assert [c.name for c in got] == ["Olga", "Kylie"] and got[1].timezone == "Australia/Perth"
    [rejected] = report.rejected
    assert "time zones (Asia/Almaty … Europe/Samara) whose calling windows never overlap" in rejected.reason
    # the default windows overlap an hour a weekday across Russia's zones: kept, all of its zones
    report = ImportReport()
    got = list(
        parse_rows(rows, "ru", ColumnMap(), "RU", report=report, zoning=Zoning(CampaignSettings(name="ru"), now))
    )
    assert got[0].timezone == ",".join(zones_of(MOSCOW_MOBILE)) and report.spanning == 1
    assert "1 numbers in several time zones" in report.summary()
    # the campaign says where its mobiles are
    moscow = CampaignSettings(name="ru", default_timezone="Europe/Moscow", windows=narrow.windows)
    report = ImportReport()
    got = list(parse_rows(rows, "ru", ColumnMap(), "RU", report=report, zoning=Zoning(moscow, now)))
    assert got[0].timezone == "Europe/Moscow" and not report.rejected and report.spanning == 0


def test_the_default_zone_must_be_a_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        CampaignSettings(name="x", default_timezone="Europe/Atlantis")
