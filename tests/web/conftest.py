"""The demo daemon (simulator, API, console) on a free port; headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.cli.demo import demo_config, run_demo

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium (make test does)")
    return path


@dataclass
class Demo:
    url: str
    tokens: dict[str, str]
    ctx: Any
    http: aiohttp.ClientSession

    async def api(self, method: str, path: str, role: str = "admin", body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        async with self.http.request(method, f"{self.url}/api{path}", json=body, headers=headers) as res:
            data = await res.json() if res.content_type == "application/json" else None
            if res.status >= 400:
                raise AssertionError(f"{method} {path}: HTTP {res.status} {data}")
            return data

    @property
    def sim(self) -> Any:
        from ctiserver.sim.simulator import Simulator

        return self.ctx.require(Simulator)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    async with _demo(tmp_path, traffic=False) as d:
        yield d


@pytest.fixture
async def busy_demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """The demo with its traffic generator on (1 call/s): the wallboard has something to show."""
    async with _demo(tmp_path, traffic=True, rate=1.0) as d:
        yield d


@contextlib.asynccontextmanager
async def _demo(tmp_path: Path, traffic: bool, rate: float | None = None) -> AsyncIterator[Demo]:
    config = demo_config(tmp_path, 0, traffic=traffic, rate=rate)
    stop = asyncio.Event()
    started: asyncio.Future[tuple[str, dict[str, str], Any]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_demo(config, tmp_path, lambda url, tokens, ctx: started.set_result((url, tokens, ctx)), stop)
    )
    done, _ = await asyncio.wait({task, started}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what broke the start
    assert started.done(), "the demo did not start within 60 s"
    url, tokens, ctx = started.result()
    async with aiohttp.ClientSession() as http:
        yield Demo(url, tokens, ctx, http)
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def open_page(browser: Any, demo: Demo, role: str, lang: str = "en", routes: dict[str, Any] | None = None) -> Any:
    """A new page signed in as ``role``; ``routes`` (URL glob → Playwright route handler) apply from the start."""
    context = await browser.new_context(viewport={"width": 1360, "height": 900}, locale=lang)
    for pattern, handler in (routes or {}).items():
        await context.route(pattern, handler)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(f"{demo.url}/#token={demo.tokens[role]}")
    return page
