"""The demo end to end: agents controlled through the API, calls flowing within 30 s of the start."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ctiserver.cli.demo import demo_config
from tests.web.conftest import Demo

pytestmark = pytest.mark.timeout(300)  # the daemon starts on a loaded box: generous


async def test_an_agent_token_cannot_act_for_another_agent(demo: Demo) -> None:
    async with demo.http.post(
        f"{demo.url}/api/agents/1002/pause",
        json={"reason": "lunch"},
        headers={"Authorization": f"Bearer {demo.tokens['agent']}"},
    ) as res:
        assert res.status == 403


async def test_calls_flow_within_30_seconds(tmp_path: Path) -> None:
    from ctiserver.cli.demo import run_demo

    config = demo_config(tmp_path, 0, traffic=True, rate=2.0)
    stop = asyncio.Event()
    seen: dict[str, object] = {}

    def ready(url: str, tokens: dict[str, str], ctx: object) -> None:
        seen.update(url=url, tokens=tokens, ctx=ctx)

    task = asyncio.create_task(run_demo(config, tmp_path, ready, stop, known_every=2.0))
    try:
        import aiohttp

        deadline = time.monotonic() + 30
        calls: list[object] = []
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and not calls:
                await asyncio.sleep(0.5)
                if "url" not in seen:
                    continue
                headers = {"Authorization": f"Bearer {seen['tokens']['supervisor']}"}  # type: ignore[index]
                async with http.get(f"{seen['url']}/api/calls", headers=headers) as res:
                    assert res.status == 200
                    calls = list(await res.json())
        assert calls, "no call reached the daemon within 30 s of the start"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_testcall_reads_back_a_simulated_call(demo: Demo) -> None:
    """``ctiserver testcall --skip-call``: the API read-back of a call the simulator placed with the tag."""
    import json
    import os
    import sys

    from tests.conftest import ROOT

    tag = "testcall-readback1"
    demo.sim.place_call(
        from_number="+380441234567", from_name=tag, to="100", dtmf=[(4.0, "1")], hangup_after=5.0
    )
    env = {**os.environ, "CTISERVER_TOKEN": demo.tokens["supervisor"]}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctiserver",
        "testcall",
        "--skip-call",
        "--tag",
        tag,
        "--api",
        demo.url,
        "--read-back-timeout",
        "40",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    call = json.loads(out)["call"]
    assert call["id"] and tag in call["caller"] and "+380441234567" in call["caller"]
    assert call["legs"], call
    assert call["ivr_path"][0].startswith("main-en:"), call
    assert call["queue"] == "sales", call
