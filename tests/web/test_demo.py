"""``ctiserver demo``: the console, sign-in tokens, the CRM's known callers, calls flowing over the wire."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctiserver.cli.demo import always_open, banner, contacts
from ctiserver.ivr.validate import validate_text
from tests.conftest import ROOT
from tests.web.conftest import Demo


async def test_tokens_console_and_crm(demo: Demo) -> None:
    for role in ("agent", "supervisor", "admin"):
        me = await demo.api("GET", "/me", role)
        assert me["role"] == role
    assert (await demo.api("GET", "/me", "agent"))["agent"] == "1001"
    async with demo.http.get(f"{demo.url}/") as res:
        assert res.status == 200 and "ctiserver" in await res.text()
    found = await demo.api("GET", "/contacts?q=Brzęczyszczykiewicz")
    names = [c["name"] for c in (found if isinstance(found, list) else found.get("items", []))]
    assert names == ["Grzegorz Brzęczyszczykiewicz"]
    looked = await demo.api("GET", "/lookup?number=%2B79161234567", "agent")
    assert "Иван Петров" in str(looked)


def test_demo_scripts_are_always_open_and_still_valid() -> None:
    for src in sorted((ROOT / "ivr_scripts").glob("*.yaml")):
        text = always_open(src.read_text(encoding="utf-8"))
        script, diags = validate_text(text, src.name, known_scripts={"account", "csat", "main-en", "main-ru", "optout"})
        assert script is not None, diags
        if "schedules:" in text:
            assert 'mon-sun: "00:00-24:00"' in text and "holidays: []" in text
            assert "2026-12-25" not in text


def test_demo_data_has_cyrillic_and_polish_callers_and_banner() -> None:
    names = " ".join(c["name"] for c in contacts())
    assert any("\u0400" <= ch <= "\u04ff" for ch in names) and "ł" in names
    text = banner("http://127.0.0.1:8080", {"agent": "A", "supervisor": "S", "admin": "D"}, Path("/tmp/x"))
    assert "http://127.0.0.1:8080/#token=A" in text and "#token=D" in text


@pytest.mark.timeout(300)
async def test_the_demo_command_starts_prints_links_and_stops_cleanly() -> None:
    """``ctiserver demo --port 0`` as a visitor runs it: banner with working links, Ctrl+C, nothing left."""
    import asyncio
    import os
    import signal
    import sys

    import aiohttp

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctiserver",
        "demo",
        "--port",
        "0",
        "--rate",
        "0.5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(90):
            while not any("Stop with" in x for x in lines):
                line = (await proc.stdout.readline()).decode()
                assert line, "the demo exited before printing its banner"
                lines.append(line)
        links = {x.split(":", 1)[0].strip(): x.split()[-1] for x in lines if "#token=" in x}
        data_dir = next(x.split()[1] for x in lines if x.strip().startswith("data:"))
        assert set(links) == {"you (agent 1001)", "supervisor", "admin"}
        base, token = links["admin"].split("/#token=")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}) as res:
                assert res.status == 200 and (await res.json())["role"] == "admin"
            async with http.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"}) as res:
                assert (await res.json())["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 60)
    assert rc == 0, (await proc.stderr.read()).decode()[-2000:] if proc.stderr else rc
    assert not await asyncio.to_thread(os.path.exists, data_dir)  # the temporary data folder is removed


async def test_a_second_demo_on_the_same_data_dir_waits_and_stops_cleanly(demo: Demo, tmp_path: Path) -> None:
    """The ``demo`` fixture runs on ``tmp_path``; a second demo there waits as a standby (one daemon per database)
    — nothing ready, no second console — and Ctrl+C ends it without an error."""
    from ctiserver.cli.demo import demo_config, run_demo

    stop = asyncio.Event()
    became_ready: list[str] = []
    second = asyncio.create_task(
        run_demo(demo_config(tmp_path, 0, traffic=False), tmp_path, lambda url, *_: became_ready.append(url), stop)
    )
    await asyncio.sleep(3.0)
    assert not second.done() and became_ready == []
    assert (await demo.api("GET", "/me", "admin"))["role"] == "admin"  # the first one serves on
    stop.set()
    await asyncio.wait_for(second, 10.0)  # returns: no exception
