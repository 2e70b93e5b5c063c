"""The wallboard's "Campaigns" card in a real browser (headless Debian Chromium via Playwright) against the demo
daemon: a campaign created through the API shows as a draft; Start / Pause from the card drive the dialer's state
machine (the API agrees); a button that a change elsewhere made illegal gets the API's 409 as a toast and the page
goes on; the labels follow the language; when the PBX refuses the campaign's Originates (the rendered AMD context
is missing) the campaign pauses itself and the row shows the PBX's message; while the dialplan check finds the
dialler's context missing, a running campaign's row says why it dials nothing. An agent's wallboard has no card."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.web.conftest import Demo, open_page
from tests.web.test_browser import WAIT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ALWAYS = {day: ["00:00-23:59:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def _state(demo: Demo, name: str) -> str:
    return str((await demo.api("GET", f"/dialer/campaigns/{name}", "supervisor"))["state"])


async def _buttons(row: Any) -> list[str]:
    return list(await row.locator("button").evaluate_all("bs => bs.map(b => b.dataset.action)"))


async def _hold_campaign_lists(page: Any) -> asyncio.Event:
    """Until the returned event is set, the wallboard's GET /api/dialer/campaigns requests wait (not sent yet):
    the card keeps what it shows while the campaign changes behind its back. Returns once the page's next
    refresh is held (every refresh asked before is answered by then)."""
    release = asyncio.Event()
    held = asyncio.Event()

    async def hold(route: Any) -> None:
        if route.request.method == "GET":
            held.set()
            await release.wait()
        await route.continue_()

    await page.route("**/api/dialer/campaigns", hold)
    await asyncio.wait_for(held.wait(), WAIT / 1000)  # the 5-s timer at the latest
    return release


async def test_wallboard_campaigns_start_pause_and_the_pbx_refusing(demo: Demo, browser: Any) -> None:
    from ctiserver.pbx.dialplan_check import DialplanCheck
    from ctiserver.sim.simulator import Simulator

    name = "autumn"
    campaign = {
        "name": name,
        "queue": "sales",
        "region": "PL",
        "windows": {"days": ALWAYS},
        "retry": {"max_attempts": 1},
    }
    await demo.api("POST", "/dialer/campaigns", "supervisor", campaign)
    # a call-back a month away: the list is not exhausted, so a started campaign stays running (not completed)
    later = {"number": "+48601000100", "name": "Jan Kowalski", "at": time.time() + 30 * 86400}
    await demo.api("POST", f"/dialer/campaigns/{name}/callbacks", "supervisor", later)

    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    card = page.locator("#campaigns-card")
    row = page.locator(f"#campaigns tbody[data-campaign='{name}']")
    await row.locator(".c-state", has_text="Draft").wait_for(timeout=WAIT)
    assert await card.locator("h2").text_content() == "Campaigns"
    assert await _buttons(row) == ["start", "stop"]
    assert await row.locator(".c-pacing").inner_text() == "Progressive"
    assert await row.locator(".c-abandon").inner_text() == "0 % / 3 %"
    assert await row.locator(".c-answer").inner_text() == "0 %"
    assert await row.locator(".c-dialled").inner_text() == "0"
    assert await row.locator(".c-opted-out").inner_text() == "0"  # the opt-out key's count, under "Opted out"
    assert await page.locator("#campaigns th[data-i18n='wb.campOptedOut']").inner_text() == "Opted out"

    await row.locator("button[data-action='start']").click()
    await page.locator(f"#campaigns tbody[data-campaign='{name}'][data-state='running']").wait_for(timeout=WAIT)
    assert await row.locator(".c-state").inner_text() == "Running"
    assert await _state(demo, name) == "running"
    assert await _buttons(row) == ["pause", "stop"]

    await row.locator("button[data-action='pause']").click()
    await page.locator(f"#campaigns tbody[data-campaign='{name}'][data-state='paused']").wait_for(timeout=WAIT)
    assert await _state(demo, name) == "paused"
    assert await _buttons(row) == ["start", "stop"]
    assert await row.locator("button[data-action='start']").inner_text() == "Resume"
    assert await row.locator("tr.halted").count() == 0  # paused by a supervisor: no PBX message

    # stopped through the API while the card still shows it paused: its Stop is now illegal → the API's 409 as a
    # toast, and the page goes on (the next answer shows the campaign stopped)
    release = await _hold_campaign_lists(page)
    await demo.api("POST", f"/dialer/campaigns/{name}/stop", "supervisor")
    assert await row.get_attribute("data-state") == "paused"
    async with page.expect_response(lambda r: r.url.endswith(f"/{name}/stop"), timeout=WAIT) as refused:
        await row.locator("button[data-action='stop']").click()
    assert (await refused.value).status == 409
    await page.locator(".toast.bad", has_text="cannot go from stopped to stopped").wait_for(timeout=WAIT)
    release.set()  # (the route stays: it holds nothing any more)
    await page.locator(f"#campaigns tbody[data-campaign='{name}'][data-state='stopped']").wait_for(timeout=WAIT)
    assert await _buttons(row) == ["start"]

    await page.select_option("#lang", "ru")  # the card follows the language
    await row.locator(".c-state", has_text="Остановлена").wait_for(timeout=WAIT)
    await card.locator("h2", has_text="Кампании").wait_for(timeout=WAIT)
    assert await row.locator("button[data-action='start']").inner_text() == "Запустить"

    # the PBX lacks the rendered AMD context: it refuses the Originate, the campaign pauses itself
    plan = demo.ctx.require(Simulator).engine.config.dialplan
    amd = plan.pop("ctiserver-amd")
    try:
        contact = {"number": "+48601000101", "name": "Anna Nowak", "id": "a1"}
        await demo.api("POST", f"/dialer/campaigns/{name}/contacts", "supervisor", {"contacts": [contact]})
        await row.locator("button[data-action='start']").click()
        halted = row.locator("tr.halted td.bad", has_text="Extension does not exist.")
        await halted.wait_for(timeout=WAIT)
        await page.locator(f"#campaigns tbody[data-campaign='{name}'][data-state='paused']").wait_for(timeout=WAIT)
        text = await halted.inner_text()
        assert text.startswith("Приостановлена АТС:") and "ctiserver-amd" in text, text
        assert await row.locator(".c-state").inner_text() == "Приостановлена"
        stats = await demo.api("GET", f"/dialer/campaigns/{name}/stats", "supervisor")
        assert stats["state"] == "paused" and "Extension does not exist." in stats["halted"], stats
        assert stats["halted"] in text
        assert await row.locator(".c-dialled").inner_text() == str(stats["counters"].get("dialled", 0))
    finally:
        plan["ctiserver-amd"] = amd

    # resumed while the dialplan check finds the dialler's Local context missing: running, dialling nothing, and
    # the row says why — until the context is back
    check = demo.ctx.require(DialplanCheck)
    dialer = plan.pop("ctiserver-dialer")
    try:
        assert "ctiserver-dialer" in (await check.check_once()).missing
        await row.locator("button[data-action='start']").click()
        waiting = row.locator("tr.waiting td.c-waiting", has_text="ctiserver-dialer")
        await waiting.wait_for(timeout=WAIT)
        text = await waiting.inner_text()
        assert text.startswith("Не набирает:") and "dialplan reload" in text, text
        assert await row.get_attribute("data-state") == "running"
        assert await row.locator("tr.halted").count() == 0
        stats = await demo.api("GET", f"/dialer/campaigns/{name}/stats", "supervisor")
        assert stats["waiting"] == {"code": "dialplan_missing", "detail": "ctiserver-dialer"}, stats
        assert stats["counters"].get("dialled", 0) == 0
    finally:
        plan["ctiserver-dialer"] = dialer
    assert (await check.check_once()).ok
    await row.locator("tr.waiting").wait_for(state="detached", timeout=WAIT)
    assert page.errors == []


async def test_an_agent_on_the_wallboard_gets_no_campaigns_card(demo: Demo, browser: Any) -> None:
    """The dialer's API is for staff: an agent's wallboard asks nothing, shows no card, no error."""
    page = await open_page(browser, demo, "agent")
    await page.wait_for_url("**/agent.html", timeout=WAIT)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/dialer/campaigns" in r.url else None)
    await page.goto(page.url.replace("agent.html", "wallboard.html"))
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await page.locator(".queue[data-queue='sales']").wait_for(timeout=WAIT)  # a refresh went through
    await page.wait_for_timeout(1500)  # and the live events' refreshes, the charts
    assert await page.locator("#campaigns-card").is_hidden()
    assert asked == []
    assert await page.locator(".toast.bad").count() == 0
    # nothing asked that an agent may not have: no refused request in the console (the KPI report included)
    assert console == []
    assert page.errors == []


async def test_a_refused_campaign_list_hides_the_card_without_a_toast(demo: Demo, browser: Any) -> None:
    """The dialer's API refusing the token (403) all of a sudden: the card hides, no toast, the wallboard goes on."""
    refused = asyncio.Event()

    async def forbidden(route: Any) -> None:
        body = '{"error": {"code": "forbidden", "message": "not for this token"}}'
        await route.fulfill(status=403, content_type="application/json", body=body)
        refused.set()

    await demo.api("POST", "/dialer/campaigns", "supervisor", {"name": "winter", "queue": "sales"})
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#campaigns tbody[data-campaign='winter']").wait_for(timeout=WAIT)
    await page.route("**/api/dialer/campaigns", forbidden)
    await asyncio.wait_for(refused.wait(), WAIT / 1000)  # the next refresh (the 5-s timer at the latest)
    await page.locator("#campaigns-card").wait_for(state="hidden", timeout=WAIT)
    await page.wait_for_timeout(300)
    assert await page.locator(".toast.bad").count() == 0
    assert page.errors == []
