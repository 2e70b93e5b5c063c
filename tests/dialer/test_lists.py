"""Numbers, time zones, calling windows and the CSV parser (pure)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from ctiserver.dialer.importer import ColumnMap, ImportReport, read_csv
from ctiserver.dialer.model import CampaignSettings
from ctiserver.dialer.numbers import BadNumber, timezone_of, to_e164
from ctiserver.dialer.windows import CallingWindows

FRI_0800_UTC = 1_800_000_000.0  # Friday 2027-01-15 08:00 UTC


def test_e164_and_zone() -> None:
    assert to_e164("(212) 555-0123", "US") == "+12125550123"
    assert to_e164("0049 30 1000001") == "+49301000001"
    assert timezone_of("+12125550123") == "America/New_York"
    assert timezone_of("+81312345678") == "Asia/Tokyo"
    for bad in ("", "abc", "+1 212", "+999 1234567"):
        with pytest.raises(BadNumber):
            to_e164(bad)


def test_windows_in_callee_local_time() -> None:
    w = CallingWindows()  # 09-20 Mon-Fri, 10-18 Sat
    assert w.is_open("Europe/Berlin", FRI_0800_UTC)  # 09:00 Berlin
    assert not w.is_open("Europe/London", FRI_0800_UTC)  # 08:00 London
    assert not w.is_open("America/New_York", FRI_0800_UTC)  # 03:00
    assert w.next_open("America/New_York", FRI_0800_UTC) == FRI_0800_UTC + 6 * 3600
    sat_evening = FRI_0800_UTC + 86400 + 10 * 3600  # Saturday 18:00 UTC = 19:00 Berlin
    assert not w.is_open("Europe/Berlin", sat_evening)
    monday = w.next_open("Europe/Berlin", sat_evening)  # Sunday closed -> Monday 09:00
    assert monday is not None and dt.datetime.fromtimestamp(monday, dt.UTC).strftime("%a %H:%M") == "Mon 08:00"
    holiday = CallingWindows(holidays=(dt.date(2027, 1, 15),))
    assert not holiday.is_open("Europe/Berlin", FRI_0800_UTC)
    with pytest.raises(ValueError):
        CallingWindows(days={"mon": ("18:00-09:00",)})
    with pytest.raises(ValueError):
        CallingWindows(days={"funday": ("09:00-10:00",)})


def test_a_window_may_run_to_midnight() -> None:
    """"24:00" ends a window at midnight: the day's last minute is inside it ("23:59" ends before 23:59:xx)."""
    last_minute = FRI_0800_UTC + 14 * 3600 + 59 * 60 + 30  # Friday 22:59:30 UTC = 23:59:30 Berlin
    late = CallingWindows(days={"fri": ("20:00-24:00",)})
    assert late.is_open("Europe/Berlin", last_minute)
    assert not late.is_open("Europe/Berlin", last_minute + 60)  # Saturday 00:00:30
    assert not CallingWindows(days={"fri": ("20:00-23:59",)}).is_open("Europe/Berlin", last_minute)
    assert late.next_open("Europe/Berlin", FRI_0800_UTC) == FRI_0800_UTC + 11 * 3600  # 20:00 Berlin
    for bad in ("24:00-24:00", "20:00-24:30", "24:00-23:00"):
        with pytest.raises(ValueError):
            CallingWindows(days={"fri": (bad,)})


def test_settings_enforce_the_law() -> None:
    with pytest.raises(ValueError):
        CampaignSettings(name="x", ring_timeout=10)  # at least 15 s of ringing
    with pytest.raises(ValueError):
        CampaignSettings(name="x", agent_wait=3)  # a message within 2 s
    with pytest.raises(ValueError):
        CampaignSettings(name="x", abandon_cap=0.03, abandon_target=0.035)
    assert CampaignSettings(name="x", abandon_window="24h").abandon_window_seconds == 86400


def test_csv_custom_fields_zone_override_and_rejects() -> None:
    text = "phone,name,id,timezone,plan,city\n+12125550123,Ann,a1,,gold,NYC\n+12125550124,Bo,,Mars/Base,x,y\n"
    report = ImportReport()
    progress: list[int] = []
    contacts = list(read_csv(io.StringIO(text), "c1", ColumnMap(), report=report, progress=progress.append))
    assert [c.number for c in contacts] == ["+12125550123"]
    assert contacts[0].fields == {"plan": "gold", "city": "NYC"} and contacts[0].timezone == "America/New_York"
    assert report.rejected[0].line == 3 and "Mars/Base" in report.rejected[0].reason
    assert progress == [2]
    only = list(read_csv(io.StringIO(text), "c1", ColumnMap(fields=("city",)), report=ImportReport()))
    assert only[0].fields == {"city": "NYC"}
    assert ColumnMap.parse("number=Tel,fields=a|b") == ColumnMap(number="Tel", fields=("a", "b"))
    with pytest.raises(ValueError):
        ColumnMap.parse("phone")
