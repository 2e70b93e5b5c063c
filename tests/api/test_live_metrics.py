"""``/metrics`` carries the contact centre's live figures, scraped over HTTP from the running daemon against the
simulator: a caller waiting in the ACD's queue while both agents are on a break (waiting 1, the longest wait
growing, agents by state), then answered (waiting 0, answered 1 in the windows); a dialler campaign that dialled
a contact (its state, outcome counter, abandonment rate and cap, predictive or not) and one held back because
the PBX lacks the dialler's dialplan (``held_back`` with the reason)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from ctiserver.acd.service import AcdService
from ctiserver.app import COMPONENTS
from ctiserver.dialer.model import Contact
from ctiserver.dialer.service import DialerService
from ctiserver.sim.simulator import Simulator
from tests.api.harness import DIALER_COMPONENTS, Daemon, daemon
from tests.dialer.test_component import _sim_yaml
from tests.dialer.wire import window_around_now

SCRIPT = """script: to-support
dids: ["100"]
nodes:
  q: {type: queue, queue: support}
"""


async def scrape(http: aiohttp.ClientSession, d: Daemon) -> dict[str, float]:
    async with http.get(d.url + "/metrics", headers=d.auth("monitor")) as resp:
        assert resp.status == 200
        text = await resp.text()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(ctiserver_(?:queue|agents|dialer)\w*(?:\{[^}]*\})?) (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


async def test_queue_and_agent_figures(tmp_path: Path) -> None:
    (tmp_path / "ivr").mkdir()
    (tmp_path / "ivr" / "to-support.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path / "ivr")},
        "acd": {
            "agents": [
                {"id": "1001", "device": "PJSIP/1001", "login": True},
                {"id": "1002", "device": "PJSIP/1002", "login": True},
            ],
            "queues": [{"name": "support", "ring_timeout": 20}],
        },
    }
    async with daemon(tmp_path, components=COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        sim, acd = d.ctx.require(Simulator), d.ctx.require(AcdService)
        sim.agent("1001", answer_after=0.2)
        sim.agent("1002", answer_after=0.2)
        await acd.pause("1001", "lunch")
        await acd.pause("1002", "training")
        call = sim.place_call(from_number="+48221234567", to="100", hangup_after=30.0)
        waiting = 'ctiserver_queue_waiting{queue="support"}'
        assert await wait_for_scrape(http, d, lambda m: m.get(waiting) == 1.0)
        await asyncio.sleep(1.0)
        m = await scrape(http, d)
        assert m['ctiserver_queue_longest_wait_seconds{queue="support"}'] >= 1.0
        assert m['ctiserver_agents{state="not_ready"}'] == 2.0 and m['ctiserver_agents{state="ready"}'] == 0.0
        await acd.ready("1001")
        answered = 'ctiserver_queue_calls{kind="answered",queue="support",window="15m"}'
        assert await wait_for_scrape(http, d, lambda m: m.get(answered) == 1.0 and m.get(waiting) == 0.0)
        m = await scrape(http, d)
        assert m['ctiserver_queue_calls{kind="offered",queue="support",window="today"}'] == 1.0
        assert m['ctiserver_queue_service_level{queue="support",window="15m"}'] == 1.0
        assert m['ctiserver_agents{state="on_call"}'] == 1.0 and m['ctiserver_agents{state="not_ready"}'] == 1.0
        call.hangup()


async def wait_for_scrape(
    http: aiohttp.ClientSession, d: Daemon, pred: Callable[[dict[str, float]], bool], limit: float = 20.0
) -> bool:
    async with asyncio.timeout(limit):
        while True:
            if pred(await scrape(http, d)):
                return True
            await asyncio.sleep(0.2)


async def test_dialler_campaign_figures(tmp_path: Path) -> None:
    windows = window_around_now().model_dump(mode="json")
    extra = {
        "simulator": {"enabled": True, "config_file": str(_sim_yaml(tmp_path / "sim.yaml"))},
        "dialer": {
            "lines": {"channel": "PJSIP/{e164}", "amd_wait": 0.5},
            "agents": ["1001"],
            "wrapup": 0.5,
            "campaigns": [
                {
                    "name": "spring",
                    "mode": "progressive",
                    "windows": windows,
                    "abandon_cap": 0.025,
                    "abandon_target": 0.02,
                },
            ],
        },
    }
    async with daemon(tmp_path, components=DIALER_COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        service = d.ctx.require(DialerService)
        m = await scrape(http, d)
        assert m['ctiserver_dialer_campaign_state{campaign="spring",state="draft"}'] == 1.0
        assert m['ctiserver_dialer_abandon_cap{campaign="spring"}'] == 0.025
        later = Contact("k2", "spring", "+49301000002", "Europe/Berlin", next_at=time.time() + 3600)  # keeps it running
        await service.add_contacts("spring", [Contact("k1", "spring", "+49301000001", "Europe/Berlin"), later])
        await service.start("spring")
        human = 'ctiserver_dialer_outcomes_total{campaign="spring",outcome="human"}'
        assert await wait_for_scrape(http, d, lambda m: m.get(human) == 1.0, limit=60.0)
        m = await scrape(http, d)
        assert m['ctiserver_dialer_campaign_state{campaign="spring",state="running"}'] == 1.0
        assert not [
            k for k in m if k.startswith('ctiserver_dialer_campaign_state{campaign="spring"') and "running" not in k
        ]
        assert m['ctiserver_dialer_abandon_rate{campaign="spring"}'] == 0.0
        assert m['ctiserver_dialer_predictive{campaign="spring"}'] == 0.0
        assert m['ctiserver_dialer_lines_ringing{campaign="spring"}'] == 0.0
        assert not [k for k in m if k.startswith("ctiserver_dialer_held_back")]  # dialling freely

        await d.ctx.require(Simulator).ami.stop()  # the PBX's AMI goes away: the running campaign is held back
        held = 'ctiserver_dialer_held_back{campaign="spring",reason="ami_down"}'
        assert await wait_for_scrape(http, d, lambda m: m.get(held) == 1.0)
