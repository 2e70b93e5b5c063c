"""The console in a real browser (headless Debian Chromium via Playwright) against the demo daemon over real
sockets: the agent signs in, logs in, goes ready, gets the pop while the simulated phone rings, sets a
disposition in wrap-up; a dialler call: the campaign's disposition (do-not-call) and a personal call-back from
the screen; the wallboard shows the call; an invalid IVR edit shows the error and does not reload, a valid one
does. Screenshots are test artefacts (test-artifacts/); ``CTISERVER_UPDATE_SCREENSHOTS=1`` also
refreshes the README's docs/img/."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.web.conftest import Demo, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]  # a loaded CI box: generous
IMG = ROOT / "docs" / "img"
ARTIFACTS = ROOT / "test-artifacts"
WAIT = 45_000  # ms; generous, the machine is shared


async def _only_me_ready(demo: Demo) -> None:
    """Everybody but the visitor (1001) logs out, so the test call can only go to the browser's agent."""
    for agent in await demo.api("GET", "/agents", "supervisor"):
        agent_id = str(agent.get("id") or agent.get("agent"))
        if agent_id != "1001" and agent.get("state") not in (None, "logged_out"):
            await demo.api("POST", f"/agents/{agent_id}/logout", "supervisor", {})


async def _ready_agent(demo: Demo, browser: Any, shortcut: bool = False) -> Any:
    """The agent console of 1001, signed in, logged in and ready, the only agent ready in the demo
    (``shortcut``: made ready with the keyboard, Alt+R, instead of the button)."""
    await _only_me_ready(demo)
    page = await open_page(browser, demo, "agent")
    await page.wait_for_url("**/agent.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await page.click("#btn-login")
    await page.locator("#state-panel:not(.hidden)").wait_for(timeout=WAIT)
    if await page.locator("#btn-ready").is_enabled():
        await (page.keyboard.press("Alt+r") if shortcut else page.click("#btn-ready"))
    await page.locator("#state.state-ready").wait_for(timeout=WAIT)
    return page


async def _shot(page: Any, name: str) -> None:
    """A test artefact in test-artifacts/; with CTISERVER_UPDATE_SCREENSHOTS=1 also the README's docs/img/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / name), full_page=False)
    assert (ARTIFACTS / name).stat().st_size > 10_000
    if os.environ.get("CTISERVER_UPDATE_SCREENSHOTS") == "1":
        IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / name, IMG / name)


async def test_agent_gets_the_pop_and_sets_a_disposition(demo: Demo, browser: Any) -> None:
    page = await _ready_agent(demo, browser, shortcut=True)

    demo.sim.place_call(
        from_number="+79161234567", from_name="Иван Петров", to="100", dtmf=[(4.0, "1")], hangup_after=30.0
    )
    pop = page.locator("#pop:not(.hidden)")
    await pop.wait_for(timeout=WAIT)
    assert "Иван Петров" in await page.locator("#pop-caller").inner_text()
    assert "VIP" in await page.locator("#pop-contact").inner_text()  # the CRM contact, before answer
    await page.locator("#pop tr", has_text="Заказ №4471").wait_for(timeout=WAIT)  # past contacts from the CRM
    assert "sales" in await page.locator("#pop dl").inner_text()  # queue; IVR path below
    assert "main_menu" in await page.locator("#pop dl").inner_text()
    assert await page.locator("#pop.answered").count() == 0  # still ringing
    await _shot(page, "agent-pop.png")

    await page.locator("#state.state-on_call").wait_for(timeout=WAIT)  # the simulated headset answers
    await page.locator("#controls:not(.hidden)").wait_for(timeout=WAIT)
    await page.keyboard.press("Alt+h")  # hold: the button turns into "Resume" only if the API accepted it
    await page.locator("#btn-hold:has-text('Resume')").wait_for(timeout=WAIT)
    await page.keyboard.press("Alt+h")
    await page.locator("#btn-hold:has-text('Hold')").wait_for(timeout=WAIT)
    # the queue records every call: the button follows the recording (events; GET /api/calls/{id}/recordings)
    await page.locator("#btn-rec:has-text('Pause recording')").wait_for(timeout=WAIT)
    await page.keyboard.press("Alt+m")  # pause the recording
    await page.locator("#btn-rec:has-text('Resume recording')").wait_for(timeout=WAIT)
    await page.reload()  # a page opened mid-call knows the recording is paused
    await page.locator("#btn-rec:has-text('Resume recording')").wait_for(timeout=WAIT)
    assert await page.locator(".toast.bad").count() == 0
    await page.keyboard.press("Alt+x")  # hang up
    await page.locator("#wrapup:not(.hidden)").wait_for(timeout=WAIT)
    await page.select_option("#dispo-code", "sale")
    await page.fill("#dispo-notes", "Заказал 3 позиции; perzwonić w piątek")
    await page.locator("#dispo-notes").press("Control+Enter")
    await page.locator("#dispo-saved:has-text('Saved')").wait_for(timeout=WAIT)
    # the agent's own day (GET /api/kpi/agents): the call is counted
    day = page.locator("#my-day", has_text=re.compile(r"Today: [1-9]\d* calls? · occupancy \d+%"))
    await day.wait_for(timeout=WAIT)
    call_id = await page.locator("#wrapup").get_attribute("data-call-id")
    assert call_id
    history = await demo.api("GET", "/calls/history?limit=50", "supervisor")
    mine = [c for c in history if str(c.get("id") or c.get("call_id")) == call_id]
    assert mine and "sale" in str(mine[0]), history
    assert page.errors == []


async def test_wallboard_shows_the_call(busy_demo: Demo, browser: Any) -> None:
    demo = busy_demo
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    demo.sim.place_call(
        from_number="+48221234567",
        from_name="Małgorzata Kowalska",
        to="100",
        dtmf=[(4.0, "1")],
        hangup_after=60.0,
    )
    row = page.locator("#calls tr", has_text="Małgorzata Kowalska")
    await row.wait_for(timeout=WAIT)
    # the queue the caller chose (menu option 1)
    await (
        page.locator("#calls tr", has_text="Małgorzata Kowalska")
        .filter(has_text="sales")
        .wait_for(timeout=WAIT)
    )
    await page.locator(".queue[data-queue='sales']").wait_for(timeout=WAIT)
    await page.locator(".agent.on_call").first.wait_for(timeout=WAIT)  # the simulated agents work
    # a call's agent by name, as on the agent's card (the calls list has ids)
    cell = page.locator("#calls td.call-agents:not([data-agents=''])").first
    await cell.wait_for(timeout=WAIT)
    ids = (await cell.get_attribute("data-agents") or "").split()
    names = [await page.locator(f".agent[data-agent='{i}'] .n").inner_text() for i in ids]
    assert await cell.inner_text() == ", ".join(names) and names != ids, (ids, names)
    # calls the ACD holds: waiting in a queue, or ringing the agent they are offered to (not "in progress")
    await page.locator("#calls td.call-state[data-state='queued']", has_text="waiting").first.wait_for(timeout=WAIT)
    ringing = page.locator("#calls tr:has(td.call-state[data-state='ringing'])").first
    await ringing.wait_for(timeout=WAIT)
    assert await ringing.locator("td.call-state").inner_text() == "ringing"
    # the traffic fills today's numbers and the charts (refreshed every minute; reload to draw them now)
    await (
        page.locator(".queue .row", has_text="answered: 1")
        .or_(page.locator(".queue .row", has_text=re.compile(r"answered: [1-9]")))
        .first.wait_for(timeout=WAIT)
    )
    # each agent's card: calls handled today and occupancy (GET /api/kpi/agents)
    kpi = page.locator(".agent .s.kpi", has_text=re.compile(r"today: [1-9]\d* calls? · occupancy \d+%")).first
    await kpi.wait_for(timeout=WAIT)
    await page.reload()
    await page.locator("#chart-volume rect").first.wait_for(timeout=WAIT)
    await page.locator("#calls tr").first.wait_for(timeout=WAIT)
    await _shot(page, "wallboard.png")
    assert page.errors == []


async def test_wallboard_lists_idle_configured_queues(demo: Demo, browser: Any) -> None:
    """No call yet: every queue of the demo's ACD (sales, support, billing) has its card, with zeros."""
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    for queue in ("sales", "support", "billing"):
        card = page.locator(f".queue[data-queue='{queue}']")
        await card.wait_for(timeout=WAIT)
        assert "offered: 0" in await card.locator(".row").inner_text()
        assert await card.locator(".tile[data-k='wb.waiting'] .v").inner_text() == "0"
        assert await card.locator(".tile[data-k='wb.callbacks'] .v").inner_text() == "0"  # owed by the ACD
    assert page.errors == []


async def _hold_one_answer(page: Any, pattern: str, *, after: int = 0, reload: bool = False) -> asyncio.Event:
    """Hold back the answer to the GET of ``pattern`` that comes after the first ``after`` ones: it is fetched
    from the server at once (the state then) and delivered only once the returned event is set (``_deliver``).
    ``reload``: reload the page once the route is in place. Returns when the answer is held."""
    release = asyncio.Event()
    held: list[Any] = []
    gets = 0

    async def hold(route: Any) -> None:
        nonlocal gets
        gets += route.request.method == "GET"
        if held or route.request.method != "GET" or gets <= after:
            await route.continue_()
            return
        answer = await route.fetch()
        held.append(route)
        await release.wait()
        await route.fulfill(response=answer)

    await page.context.route(pattern, hold)
    if reload:
        await page.reload()
    for _ in range(200):
        if held:
            return release
        await page.wait_for_timeout(50)
    raise AssertionError(f"no request for {pattern} was held")


async def _deliver(page: Any, release: asyncio.Event, path: str) -> None:
    """Let the held answer go, and give the page a moment to (not) apply it."""
    async with page.expect_event("requestfinished", lambda r: r.url.endswith(path), timeout=WAIT):
        release.set()
    await page.wait_for_timeout(300)


async def test_wallboard_drops_a_refresh_answer_older_than_the_one_shown(demo: Demo, browser: Any) -> None:
    """Refreshes overlap (live events, the 5-s timer): one is held back with the agents as they were (1002
    ready) while a newer one shows 1002 paused; the older answer, delivered last, must not put 1002 back to
    ready on the wallboard."""
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await page.locator(".agent.ready[data-agent='1002']").wait_for(timeout=WAIT)
    release = await _hold_one_answer(page, "**/api/agents")  # the next refresh (the 5-s timer): 1002 ready
    await demo.api("POST", "/agents/1002/pause", "supervisor", {"reason": "break"})
    await page.locator(".agent.not_ready[data-agent='1002']").wait_for(timeout=WAIT)  # a newer refresh
    await _deliver(page, release, "/api/agents")
    assert await page.locator(".agent.not_ready[data-agent='1002']").count() == 1
    await demo.api("POST", "/agents/1002/ready", "supervisor", {})
    assert page.errors == []


async def test_wallboard_shows_phones_the_queues_cannot_reach(demo: Demo, browser: Any) -> None:
    """A ready agent whose phone is unregistered shows "phone offline"; one whose phone is on a call the ACD did
    not give it (1002 dialled 1004 from the handset) shows "phone on a call outside the queues" — both ready in
    the ACD, both offered nothing. The notes go when the PBX reports the phones back."""
    from ctiserver.sim.simulator import Simulator

    sim = demo.ctx.require(Simulator)
    page = await open_page(browser, demo, "supervisor")
    await page.wait_for_url("**/wallboard.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await page.locator(".agent.ready[data-agent='1003']").wait_for(timeout=WAIT)
    assert await page.locator(".agent .phone").count() == 0
    phone = sim.agent("1003", registered=False)
    call = sim.place_call(from_number="1002", to="1004", endpoint="1002", context="from-agents", hangup_after=60)
    await page.locator(".agent.ready[data-agent='1003'] .phone.offline").wait_for(timeout=WAIT)
    await page.locator(".agent.ready[data-agent='1002'] .phone.busy").wait_for(timeout=WAIT)
    assert await page.locator(".agent[data-agent='1002'] .phone").inner_text() == "phone on a call outside the queues"
    assert await page.locator(".agent[data-agent='1003'] .phone").inner_text() == "phone offline"
    await _shot(page, "wallboard-phones.png")
    call.hangup()
    phone.register(True)
    await page.locator(".agent[data-agent='1002']:not(:has(.phone))").wait_for(timeout=WAIT)
    await page.locator(".agent[data-agent='1003']:not(:has(.phone))").wait_for(timeout=WAIT)
    assert page.errors == []


async def test_ivr_edit_invalid_is_refused_valid_reloads(demo: Demo, browser: Any) -> None:
    before = await demo.api("GET", "/ivr/scripts/main-en")
    page = await open_page(browser, demo, "admin")
    await page.wait_for_url("**/admin.html", timeout=WAIT)
    await page.select_option("#script-list", "main-en")
    await _editor_holds(page, before["source"])
    await page.locator("#validity.valid").wait_for(timeout=WAIT)
    await page.locator("#diagram svg").wait_for(timeout=WAIT)  # Mermaid drew the flow
    source = await page.input_value("#source")

    bad = source.replace("next: vip_check", "next: no_such_node", 1)
    assert bad != source
    await page.fill("#source", bad)
    await page.locator("#validity.error").wait_for(timeout=WAIT)
    problem = await page.locator("#problems li").first.inner_text()
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "no_such_node" in x)) + 1
    assert problem.startswith(f"{line}:"), problem
    await page.click("#btn-save")
    await page.locator(".toast.bad").wait_for(timeout=WAIT)
    after_bad = await demo.api("GET", "/ivr/scripts/main-en")
    assert after_bad.get("version") == before.get("version")  # nothing reloaded

    good = source.replace("label: VIP?", "label: VIP caller?", 1)
    assert good != source
    await page.fill("#source", good)
    await page.locator("#validity.valid").wait_for(timeout=WAIT)
    await page.click("#btn-save")
    await page.locator(".toast:not(.bad)").wait_for(timeout=WAIT)
    after = await demo.api("GET", "/ivr/scripts/main-en")
    assert after.get("version") != before.get("version")
    assert "VIP caller?" in after.get("source", "")
    await _shot(page, "ivr-editor.png")
    assert page.errors == []


async def _editor_holds(page: Any, source: str) -> None:
    await page.wait_for_function("s => document.getElementById('source').value === s", arg=source, timeout=WAIT)


async def test_ivr_editor_a_late_answer_does_not_replace_the_chosen_script(demo: Demo, browser: Any) -> None:
    """The first listed script is opened on load; its answer is held back until the admin has picked main-en and
    main-en is shown. Released late, it must not overwrite the editor (it did: the CI failure of session 7)."""
    names = [s if isinstance(s, str) else s["name"] for s in await demo.api("GET", "/ivr/scripts")]
    first = names[0]
    assert first != "main-en", names
    release = asyncio.Event()
    held: list[Any] = []

    async def hold(route: Any) -> None:
        held.append(route)
        await release.wait()
        await route.continue_()

    page = await open_page(browser, demo, "admin", routes={f"**/ivr/scripts/{first}": hold})
    await page.wait_for_url("**/admin.html", timeout=WAIT)
    await page.locator("#script-list option[value='main-en']").wait_for(state="attached", timeout=WAIT)
    assert held, "the first script's load was not seen"
    await page.select_option("#script-list", "main-en")
    main = await demo.api("GET", "/ivr/scripts/main-en")
    await _editor_holds(page, main["source"])
    async with page.expect_event("requestfinished", lambda r: r.url.endswith(f"/ivr/scripts/{first}"), timeout=WAIT):
        release.set()
    await page.wait_for_timeout(300)  # the late answer's handler has run
    assert await page.input_value("#source") == main["source"]
    assert await page.input_value("#script-name") == "main-en"
    assert page.errors == []


async def test_agent_state_from_a_late_snapshot_does_not_replace_a_live_change(demo: Demo, browser: Any) -> None:
    """Once the live socket is subscribed the page asks for the agent's state; the answer is taken from the server
    (ready) but held back while the supervisor pauses the agent (the live event shows it), then delivered late:
    the older snapshot must not put the page back to ready."""
    page = await _ready_agent(demo, browser)
    # the page's first question (at load) passes; the one after the subscription is held
    release = await _hold_one_answer(page, "**/api/agents/1001", after=1, reload=True)
    await page.locator("#state.state-ready").wait_for(timeout=WAIT)
    await demo.api("POST", "/agents/1001/pause", "supervisor", {"reason": "break"})
    await page.locator("#state.state-not_ready").wait_for(timeout=WAIT)  # live
    await _deliver(page, release, "/api/agents/1001")
    assert await page.locator("#state.state-not_ready").count() == 1
    await demo.api("POST", "/agents/1001/ready", "supervisor", {})
    assert page.errors == []


async def test_language_switch_and_browser_default(demo: Demo, browser: Any) -> None:
    page = await open_page(browser, demo, "agent", lang="pl-PL")
    await page.wait_for_url("**/agent.html", timeout=WAIT)
    await page.locator("#btn-login:has-text('Zaloguj')").wait_for(timeout=WAIT)  # browser default: Polish
    await page.select_option("#lang", "ru")
    await page.locator("#btn-login:has-text('Войти')").wait_for(timeout=WAIT)
    await page.reload()
    await page.locator("#btn-login:has-text('Войти')").wait_for(timeout=WAIT)  # remembered
    await page.select_option("#lang", "uk")
    await page.locator("nav a:has-text('Агент')").wait_for(timeout=WAIT)
    # counts in each language's plural forms (the browser's Intl.PluralRules): 1 call, 1 звонок / 3 звонка / 5 звонков
    days = await page.evaluate(
        """async () => {
            const i18n = await import(new URL("js/i18n.js", location.href).href);
            const out = {};
            for (const code of ["en", "ru", "uk", "pl"]) {
                await i18n.setLanguage(code);
                out[code] = [1, 3, 5, 22, 1.5].map((n) => i18n.t("agent.myDay", { handled: n, occupancy: "9%" }));
            }
            return out;
        }"""
    )
    calls = {code: [text.split(" · ")[0].split(": ")[1] for text in texts] for code, texts in days.items()}
    assert calls == {
        "en": ["1 call", "3 calls", "5 calls", "22 calls", "1.5 calls"],
        "ru": ["1 звонок", "3 звонка", "5 звонков", "22 звонка", "1.5 звонка"],
        "uk": ["1 дзвінок", "3 дзвінки", "5 дзвінків", "22 дзвінки", "1.5 дзвінка"],
        "pl": ["1 rozmowa", "3 rozmowy", "5 rozmów", "22 rozmowy", "1.5 rozmowy"],
    }, days
    assert page.errors == []


async def test_admin_sets_skills_and_adds_a_webhook(demo: Demo, browser: Any) -> None:
    page = await open_page(browser, demo, "admin")
    await page.wait_for_url("**/admin.html", timeout=WAIT)
    skills = page.locator("input[aria-label='skills 1002']")
    await skills.wait_for(timeout=WAIT)
    await skills.fill("russian=3, billing=4, polish")
    await page.locator("#skills tr", has=skills).locator("button").click()
    await page.locator(".toast:not(.bad)").wait_for(timeout=WAIT)
    agent = await demo.api("GET", "/agents/1002")
    assert agent["skills"] == {"russian": 3, "billing": 4, "polish": 1}

    await skills.fill("russian=high")  # refused in the page, nothing sent
    await page.locator("#skills tr", has=skills).locator("button").click()
    assert (await demo.api("GET", "/agents/1002"))["skills"] == {"russian": 3, "billing": 4, "polish": 1}

    await page.fill("#wh-url", "http://127.0.0.1:9/cti-hook")
    await page.fill("#wh-events", "call.*, screen.pop")
    await page.fill("#wh-secret", "s3cret-for-the-hmac-signature")
    await page.click("#webhook-form button[type=submit]")
    await page.locator("#webhooks tr", has_text="http://127.0.0.1:9/cti-hook").wait_for(timeout=WAIT)
    hooks = await demo.api("GET", "/webhooks")
    assert [(h["url"], h["types"]) for h in hooks] == [
        ("http://127.0.0.1:9/cti-hook", ["call.*", "screen.pop"])
    ]
    assert "s3cret" not in str(hooks)  # the secret is never shown back
    assert page.errors == []


async def test_console_reconnects_and_replays_what_it_missed(demo: Demo, browser: Any) -> None:
    from ctiserver.api.component import ApiServer
    from ctiserver.events.bus import Bus
    from ctiserver.events.envelope import new_event

    bus = demo.ctx.require(Bus)
    hub = demo.ctx.require(ApiServer).hub

    async def callback(n: int) -> None:
        data = {"id": f"cb{n}", "agent": "1001", "number": f"+4860100000{n}", "due_at": 1_900_000_000 + n}
        await bus.publish(new_event("callback.scheduled", f"cb{n}", data, demo.ctx.clock.now()))

    page = await open_page(browser, demo, "agent")
    await page.wait_for_url("**/agent.html", timeout=WAIT)
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await callback(1)
    await page.locator("#callbacks tr", has_text="+48601000001").wait_for(timeout=WAIT)

    for session in list(hub.sessions):  # the server drops every console connection...
        await session.ws.close()
    await callback(2)  # ...and this event happens while the page is offline
    await page.locator("#callbacks tr", has_text="+48601000002").wait_for(timeout=WAIT)  # replayed
    await page.locator("#live-badge.live").wait_for(timeout=WAIT)
    await callback(3)
    await page.locator("#callbacks tr", has_text="+48601000003").wait_for(timeout=WAIT)
    assert await page.locator("#callbacks tr").count() == 3  # nothing shown twice
    assert page.errors == []


async def test_sign_in_by_typing_the_token(demo: Demo, browser: Any) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{demo.url}/agent.html")  # not signed in: sent to the sign-in page
    await page.wait_for_url("**/index.html?next=agent.html", timeout=WAIT)
    await page.fill("#token", "cti_nothere_wrongsecret")
    await page.click("#signin button[type=submit]")
    await page.locator("#signin-error:has-text('not valid')").wait_for(timeout=WAIT)
    await page.fill("#token", demo.tokens["supervisor"])
    await page.click("#signin button[type=submit]")
    await page.wait_for_url("**/agent.html", timeout=WAIT)  # ?next= wins over the role's home page
    await page.click("#signout")
    await page.wait_for_url("**/index.html", timeout=WAIT)
    assert await page.evaluate("sessionStorage.getItem('ctiserver.token')") is None


async def test_click_to_dial_rings_the_agent_then_the_customer(demo: Demo, browser: Any) -> None:
    page = await _ready_agent(demo, browser)
    await page.keyboard.press("Alt+d")  # focus the number
    await page.keyboard.type("+48601234567")
    await page.keyboard.press("Enter")
    await page.locator(".toast:not(.bad)", has_text="+48601234567").wait_for(timeout=WAIT)
    await page.locator("#state.state-on_call").wait_for(timeout=WAIT)  # the agent's phone, then the customer
    await page.locator("#controls:not(.hidden)").wait_for(timeout=WAIT)
    agent = await demo.api("GET", "/agents/1001")
    assert agent["state"] == "on_call" and str(agent["call_id"]).startswith("c2d-")
    assert page.errors == []



async def test_consult_then_complete_the_transfer(demo: Demo, browser: Any) -> None:
    """Attended transfer from the console: the caller holds while 1002 rings, "Complete transfer" only once
    1002 answered; completing hands the caller to 1002 and puts the browser's agent in wrap-up."""
    page = await _ready_agent(demo, browser)
    demo.sim.place_call(from_number="+48601234567", to="100", dtmf=[(4.0, "1")], hangup_after=120.0)
    await page.locator("#state.state-on_call").wait_for(timeout=WAIT)
    await page.locator("#controls:not(.hidden)").wait_for(timeout=WAIT)
    phone2 = demo.sim.agent("1002", answer_after=None)  # answered below, by hand
    await demo.api("POST", "/agents/1002/login", "supervisor", {})
    if (await demo.api("GET", "/agents/1002"))["state"] != "ready":
        await demo.api("POST", "/agents/1002/ready", "supervisor", {})
    await page.select_option("#transfer-kind", "agent")
    await page.fill("#transfer-target", "1002")
    await page.click("#btn-consult")
    await page.locator("#consult:not(.hidden)", has_text="agent:1002").wait_for(timeout=WAIT)
    assert await page.locator("#btn-consult-complete").is_disabled()  # 1002 still rings
    deadline = asyncio.get_running_loop().time() + WAIT / 1000
    while not phone2.ringing():
        assert asyncio.get_running_loop().time() < deadline, "1002's phone never rang"
        await asyncio.sleep(0.05)
    assert phone2.answer()
    await page.locator("#btn-consult-complete:enabled").wait_for(timeout=WAIT)
    await _shot(page, "agent-consult.png")
    await page.click("#btn-consult-complete")
    await page.locator("#wrapup:not(.hidden)").wait_for(timeout=WAIT)
    call_id = await page.locator("#wrapup").get_attribute("data-call-id")
    second = await demo.api("GET", "/agents/1002")
    assert second["state"] == "on_call" and second["call_id"] == call_id
    assert await page.locator(".toast.bad").count() == 0
    assert page.errors == []

async def test_dialler_call_do_not_call_and_personal_callback(demo: Demo, browser: Any) -> None:
    """A dialler call end to end: a campaign created and started through the API dials a (simulated) customer,
    the ACD offers the live answer to the browser's agent; in wrap-up the console offers the campaign's outcomes,
    'do_not_call' puts the number on the campaign's DNC list (and the call record keeps it); then the agent
    schedules a personal call-back for that customer from the screen: in its list and in the dialer's store."""
    from ctiserver.dialer.service import DialerService

    number = "+74951234567"
    page = await _ready_agent(demo, browser)

    always = {day: ["00:00-23:59:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    campaign = {
        "name": "spring",
        "queue": "sales",
        "region": "RU",
        "windows": {"days": always},
        "retry": {"max_attempts": 1},
    }
    await demo.api("POST", "/dialer/campaigns", "supervisor", campaign)
    contact = {"number": number, "name": "Ольга Смирнова", "id": "k1", "fields": {"plan": "gold"}}
    await demo.api("POST", "/dialer/campaigns/spring/contacts", "supervisor", {"contacts": [contact]})
    await demo.api("POST", "/dialer/campaigns/spring/start", "supervisor")

    await page.locator("#pop:not(.hidden)", has_text="Ольга Смирнова").wait_for(timeout=WAIT)  # the dialler's pop
    await page.locator("#state.state-on_call").wait_for(timeout=WAIT)
    async with page.expect_response(lambda r: r.url.endswith("/hangup"), timeout=WAIT) as hangup:
        await page.keyboard.press("Alt+x")  # the agent ends the conversation (its Local pair's ;2 goes with ;1)
    assert (await hangup.value).status == 204
    await page.locator("#wrapup:not(.hidden)").wait_for(timeout=WAIT)
    await page.locator("#dispo-campaign:has-text('spring')").wait_for(timeout=WAIT)
    await page.locator("#dispo-code option[value='do_not_call']").wait_for(state="attached", timeout=WAIT)
    codes = await page.eval_on_selector_all("#dispo-code option", "os => os.map(o => o.value).filter(Boolean)")
    assert codes == ["sale", "no_interest", "call_back", "do_not_call", "wrong_number", "answering_machine"]  # its own
    await page.select_option("#dispo-code", "do_not_call")
    await page.fill("#dispo-notes", "просит больше не звонить")
    await page.locator("#dispo-notes").press("Control+Enter")
    await page.locator("#dispo-saved:has-text('Saved')").wait_for(timeout=WAIT)
    assert await page.locator(".toast.bad").count() == 0
    dnc = await demo.api("GET", "/dialer/campaigns/spring/dnc", "supervisor")
    assert dnc == {"campaign": "spring", "numbers": [number], "next": None}
    call_id = await page.locator("#wrapup").get_attribute("data-call-id")
    history = await demo.api("GET", "/calls/history?limit=50", "supervisor")
    mine = [c for c in history if str(c.get("id") or c.get("call_id")) == call_id]
    assert mine and "do_not_call" in str(mine[0]), history  # the call record keeps the disposition too
    # the agent's day counts the dialler's call and says so (GET /api/kpi/agents: handled, outbound), as does
    # the agent's card on the wallboard
    outbound = r"[1-9]\d* calls? \([1-9]\d* from the dialler\) · occupancy \d+%"
    await page.locator("#my-day", has_text=re.compile("Today: " + outbound)).wait_for(timeout=WAIT)
    board = await open_page(browser, demo, "supervisor")
    await board.wait_for_url("**/wallboard.html", timeout=WAIT)
    card = board.locator(".agent[data-agent='1001'] .s.kpi", has_text=re.compile("today: " + outbound))
    await card.wait_for(timeout=WAIT)
    assert board.errors == []
    await board.context.close()

    # a personal call-back for the customer just served: number and campaign prefilled
    assert await page.input_value("#cb-number") == number
    assert await page.input_value("#cb-campaign") == "spring"
    assert await page.eval_on_selector_all("#cb-for option", "os => os.map(o => o.value)") == ["me"]
    when = "2031-05-06T10:30"
    at = await page.evaluate(f"new Date('{when}').getTime() / 1000")
    await page.fill("#cb-at", when)
    await page.fill("#cb-note", "после обеда")
    await page.click("#cb-form button[type=submit]")
    await page.locator(".toast:not(.bad)", has_text="Call-back scheduled").wait_for(timeout=WAIT)
    await page.locator("#callbacks tr", has_text=number).filter(has_text="после обеда").wait_for(timeout=WAIT)
    assert await page.locator("#callbacks tr").count() == 1  # the API's and the live event's entries are one
    listed = await demo.api("GET", "/callbacks", "agent")
    assert [(c["campaign"], c["number"], c["at"], c["agent"], c["fields"]["note"]) for c in listed] == [
        ("spring", number, at, "1001", "после обеда")
    ]
    stored = await demo.ctx.require(DialerService).store.get_contact("spring", listed[0]["contact_id"])
    assert stored is not None and (stored.status.value, stored.agent, stored.next_at) == ("callback", "1001", at)
    await page.reload()  # the list comes from the API, not only from the live event
    await page.locator("#callbacks tr", has_text=number).wait_for(timeout=WAIT)
    await _shot(page, "agent-dialler-callback.png")
    assert page.errors == []


async def test_an_amd_audit_call_says_so_on_the_pop_and_the_agents_outcome_is_the_verdict(
    demo: Demo, browser: Any
) -> None:
    """The AMD audit on the agent's screen: a campaign with ``amd_audit_every: 1`` dials a number the simulator's
    ``AMD()`` takes for a machine; instead of hanging up, the ACD offers it to the browser's agent, whose pop says
    that AMD took it for an answering machine (in the agent's language). The agent's outcome "answering_machine"
    is the audit's verdict on the stored attempt."""
    from ctiserver.dialer.service import DialerService

    number = "+48221112233"
    for dialled in (number, number.lstrip("+")):  # the demo's lines dial the number without its "+"
        demo.sim.engine.dialplan.amd.set_answerer(dialled, "machine")
    page = await _ready_agent(demo, browser)
    always = {day: ["00:00-23:59:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    campaign = {"name": "audit", "queue": "sales", "region": "PL", "windows": {"days": always},
                "retry": {"max_attempts": 1}, "amd_audit_every": 1}  # fmt: skip
    await demo.api("POST", "/dialer/campaigns", "supervisor", campaign)
    contact = {"number": number, "name": "Jan Nowak", "id": "m1"}
    await demo.api("POST", "/dialer/campaigns/audit/contacts", "supervisor", {"contacts": [contact]})
    await demo.api("POST", "/dialer/campaigns/audit/start", "supervisor")

    await page.locator("#pop #pop-amd-audit", has_text="answering machine").wait_for(timeout=WAIT)
    assert "amd_audit" not in await page.locator("#pop").inner_text()  # the marker itself is not shown raw
    await page.locator("#state.state-on_call").wait_for(timeout=WAIT)
    async with page.expect_response(lambda r: r.url.endswith("/hangup"), timeout=WAIT):
        await page.keyboard.press("Alt+x")
    await page.locator("#dispo-code option[value='answering_machine']").wait_for(state="attached", timeout=WAIT)
    await page.select_option("#dispo-code", "answering_machine")
    await page.locator("#dispo-notes").press("Control+Enter")
    await page.locator("#dispo-saved:has-text('Saved')").wait_for(timeout=WAIT)
    store = demo.ctx.require(DialerService).store
    for _ in range(50):
        attempts = await store.attempts("audit")
        if attempts and attempts[0].amd_audit == "machine":
            break
        await asyncio.sleep(0.1)
    assert [(a.amd_status, a.amd_audit) for a in attempts] == [("MACHINE", "machine")]
