"""The admin console's "Dialler campaigns" card in a real browser (headless Chromium) against the demo daemon:
broken JSON and a setting the API refuses are shown with the field, nothing saved; a new campaign is created;
a CSV list is uploaded with its column mapping (progress bar, "3 imported, 0 duplicates, 1 rejected", the
rejected row's line and reason; the API has the contacts); a running campaign's edit is refused with "pause it
first"; the abandonment record of the last 30 days shows the day's live answers, abandoned calls, AMD verdicts,
estimated false positives and the rate against the cap; the campaign report of the same days (and its CSV
download); the labels follow the language."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from ctiserver.dialer.model import AttemptRecord, Outcome
from ctiserver.dialer.service import DialerService
from tests.web.conftest import Demo, open_page
from tests.web.test_browser import WAIT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ALWAYS = {day: ["00:00-23:59:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CSV = (
    "Phone,Full name,City\n+48 22 100 00 01,Anna,Warsaw\n+48 22 100 00 02,Jan,Warsaw\nnot a number,Bad,X\n"
    "+48 12 100 00 03,Ola,Kraków\n"
)


async def _settings(page: Any, text: str) -> None:
    await page.locator("#camp-settings").fill(text)
    await page.locator("#btn-camp-save").click()


async def test_campaigns_card_create_import_edit_and_record(demo: Demo, browser: Any, tmp_path: Path) -> None:
    page = await open_page(browser, demo, "admin")
    await page.wait_for_url("**/admin.html", timeout=WAIT)  # an admin lands there once signed in
    card = page.locator("#campaign-admin")
    await card.locator("#camp-list option", has_text="New campaign…").wait_for(state="attached", timeout=WAIT)
    assert await card.locator("h2").text_content() == "Dialler campaigns"
    assert await page.locator("#btn-import").is_disabled()  # a list needs a campaign

    await _settings(page, '{"name": "winter",')
    await page.locator("#camp-problem", has_text="Not valid JSON").wait_for(timeout=WAIT)
    await _settings(page, '{"name": "winter", "ring_timeout": 5, "windows": {"days": {}}}')
    await page.locator("#camp-problem", has_text="body.ring_timeout").wait_for(timeout=WAIT)  # the law: >= 15 s
    names = [c["name"] for c in await demo.api("GET", "/dialer/campaigns")]
    assert "winter" not in names

    good = {
        "name": "winter",
        "mode": "progressive",
        "queue": "sales",
        "region": "PL",
        "windows": {"days": ALWAYS},
        "amd_false_positive_rate": 0.1,
    }
    await _settings(page, json.dumps(good))
    await page.locator(".toast", has_text="Campaign winter saved.").wait_for(timeout=WAIT)
    assert await page.locator("#camp-list").input_value() == "winter"
    assert (await demo.api("GET", "/dialer/campaigns/winter"))["settings"]["amd_false_positive_rate"] == 0.1

    csv = tmp_path / "list.csv"
    csv.write_text(CSV, encoding="utf-8")
    await page.locator("#list-file").set_input_files(str(csv))
    await page.locator("#list-map").fill("number=Phone,name=Full name,fields=City")
    await page.locator("#btn-import").click()
    await page.locator("#list-result", has_text="3 imported, 0 duplicates, 1 rejected").wait_for(timeout=WAIT)
    assert await page.locator("#list-progress").evaluate("b => b.value") == 1
    [row] = await page.locator("#list-rejects tr").all()
    assert (await row.locator("td").all_inner_texts())[0] == "4" and "no digits" in await row.inner_text()
    contacts = await demo.api("GET", "/dialer/campaigns/winter/contacts?limit=10")
    assert contacts["total"] == 3 and {c["fields"].get("City") for c in contacts["items"]} == {"Warsaw", "Kraków"}

    await demo.api("POST", "/dialer/campaigns/winter/start", "supervisor")
    await _settings(page, json.dumps({**good, "ring_timeout": 30}))
    await page.locator("#camp-problem", has_text="pause it first").wait_for(timeout=WAIT)
    await demo.api("POST", "/dialer/campaigns/winter/pause", "supervisor")

    store = demo.ctx.require(DialerService).store
    now = time.time()
    outcomes = [Outcome.HUMAN] * 8 + [Outcome.ABANDONED] + [Outcome.MACHINE] * 10
    for i, outcome in enumerate(outcomes):
        await store.record_attempt(
            AttemptRecord(f"r{i}", "winter", f"k{i}", f"+4822{i:07d}", now - 60, outcome, now - 30)
        )
    await page.locator("#btn-record").click()
    day = page.locator("#camp-record tbody tr")
    await day.first.wait_for(timeout=WAIT)
    cells = await day.first.locator("td").all_inner_texts()
    assert cells[1:] == ["9", "1", "10", "1.0", "20.00 %"], cells  # (1 + 1) / (9 + 1): the estimate in both
    assert "Worst 30d window: 20.00 % (cap 3.00 %)" in await page.locator("#camp-worst").inner_text()

    await page.locator("#btn-report").click()
    report = page.locator("#camp-report tbody tr")
    await report.first.wait_for(timeout=WAIT)
    cells = await report.first.locator("td").all_inner_texts()
    # 19 attempts, 19 contacts, 0 connected, 1 abandoned; 19 answered (8 people, 1 abandoned, 10 machines)
    assert cells[1:] == ["19", "19", "0", "1", "100.00 %", "0.00 %", "—"], cells
    link = page.locator("#report-csv")
    await link.wait_for(timeout=WAIT)
    async with page.expect_download() as download:
        await link.click()
    saved = await (await download.value).path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert text.startswith("day,attempts,contacts,") and ",19,19," in text

    await page.locator("#lang").select_option("pl")
    await card.locator("h2", has_text="Kampanie wydzwaniania").wait_for(timeout=WAIT)
    assert page.errors == []


async def test_a_supervisor_reads_the_records_on_the_wallboard(demo: Demo, browser: Any) -> None:
    """The wallboard's campaigns card (a supervisor's screen; the admin console is the admin's): pick a campaign,
    its abandonment record and its report of the last 30 days show under the table and stay through the card's
    5-s refreshes; the report's CSV downloads."""
    await demo.api("POST", "/dialer/campaigns", "supervisor", {"name": "autumn", "windows": {"days": ALWAYS}})
    await demo.api("POST", "/dialer/campaigns", "supervisor", {"name": "spring", "windows": {"days": ALWAYS}})
    store = demo.ctx.require(DialerService).store
    now = time.time()
    for i, outcome in enumerate([Outcome.HUMAN] * 3 + [Outcome.ABANDONED] + [Outcome.NOANSWER] * 4):
        await store.record_attempt(AttemptRecord(f"s{i}", "spring", f"k{i}", f"+4822{i:07d}", now - 60, outcome, now))
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#wb-camp option[value='spring']").wait_for(state="attached", timeout=WAIT)
    await page.select_option("#wb-camp", "spring")
    await page.locator("#wb-record").click()
    await page.locator("#wb-camp-record tbody tr").first.wait_for(timeout=WAIT)
    cells = await page.locator("#wb-camp-record tbody tr").first.locator("td").all_inner_texts()
    assert cells[1:] == ["4", "1", "0", "0.0", "25.00 %"], cells
    await page.locator("#wb-report").click()
    await page.locator("#wb-camp-report tbody tr").first.wait_for(timeout=WAIT)
    cells = await page.locator("#wb-camp-report tbody tr").first.locator("td").all_inner_texts()
    assert cells[1:5] == ["8", "8", "0", "1"], cells  # attempts, contacts, connected, abandoned
    await page.locator("#wb-report-csv").wait_for(timeout=WAIT)
    await page.wait_for_timeout(6000)  # a refresh of the card: the choice and the tables stay
    assert await page.input_value("#wb-camp") == "spring"
    assert await page.locator("#wb-camp-record tbody tr").count() == 1
    assert page.errors == []


async def test_dnc_card_adds_checks_pages_and_removes(demo: Demo, browser: Any) -> None:
    """The admin's "Do-not-call lists" card: a national number added to the global list with its reason (read in
    the daemon's region, stored E.164), added again ("already"), checked, the list paged (100 a page, "More"), a
    campaign's check counting the global list, the number removed with its × — each step what the API then says."""
    await demo.api("POST", "/dialer/campaigns", body={"name": "dnc-ui", "queue": "sales", "region": "PL"})
    await demo.api("POST", "/dialer/dnc", body={"numbers": [f"+4822100{i:04d}" for i in range(150)]})
    page = await open_page(browser, demo, "admin")
    card = page.locator("#dnc-admin")
    await card.locator("#dnc-list option", has_text="dnc-ui").wait_for(state="attached", timeout=WAIT)
    assert await card.locator("h2").text_content() == "Do-not-call lists"
    await card.locator("#dnc-numbers tr").nth(99).wait_for(timeout=WAIT)
    assert await card.locator("#dnc-numbers tr").count() == 100  # one page
    await card.locator("#dnc-more").click()
    await card.locator("#dnc-numbers tr").nth(149).wait_for(timeout=WAIT)
    assert await card.locator("#dnc-more").is_hidden()  # the list ends there

    await card.locator("#dnc-number").fill("8 912 345-67-89")  # national: the daemon's region (the demo's: RU)
    await card.locator("#dnc-reason").fill("asked on the phone")
    await card.locator("#btn-dnc-add").click()
    await card.locator("#dnc-status", has_text="added").wait_for(timeout=WAIT)
    added = await card.locator("#dnc-status").inner_text()
    stored = added.split()[0]
    assert stored == "+79123456789", added
    assert (await demo.api("GET", f"/dialer/dnc/{stored}"))["listed"]
    await card.locator("#dnc-numbers tr").nth(99).wait_for(timeout=WAIT)  # the list again from its start
    await card.locator("#dnc-more").click()  # +7… comes after the 150 +48… numbers
    await card.locator(".dnc-number", has_text=stored).wait_for(timeout=WAIT)
    await card.locator("#dnc-number").fill(stored)
    await card.locator("#btn-dnc-add").click()
    await card.locator("#dnc-status", has_text="already on the list").wait_for(timeout=WAIT)
    assert await card.locator("#dnc-number").input_value() == ""  # cleared once added
    await card.locator("#dnc-number").fill(stored)
    await card.locator("#btn-dnc-check").click()
    await card.locator("#dnc-status", has_text=f"{stored} is on the list").wait_for(timeout=WAIT)
    await card.locator("#dnc-list").select_option("dnc-ui")  # a campaign: its list is empty, the global one counts
    await card.locator("#dnc-empty").wait_for(timeout=WAIT)
    await card.locator("#dnc-number").fill(stored)
    await card.locator("#btn-dnc-check").click()
    await card.locator("#dnc-status", has_text=f"{stored} is on the list").wait_for(timeout=WAIT)
    await card.locator("#dnc-number").fill("not a number")
    await card.locator("#btn-dnc-check").click()
    await card.locator("#dnc-status.bad", has_text="(number)").wait_for(timeout=WAIT)

    await card.locator("#dnc-list").select_option("")
    await card.locator("#dnc-numbers tr").nth(99).wait_for(timeout=WAIT)
    await card.locator("#dnc-more").click()
    await card.locator(".dnc-number", has_text=stored).wait_for(timeout=WAIT)
    await card.get_by_role("button", name=f"Remove {stored}").click()
    await page.locator(".toast", has_text=f"{stored} removed").wait_for(timeout=WAIT)
    assert not (await demo.api("GET", f"/dialer/dnc/{stored}"))["listed"]
    await card.locator("#dnc-numbers tr").nth(99).wait_for(timeout=WAIT)
    assert await card.locator(".dnc-number", has_text=stored).count() == 0
