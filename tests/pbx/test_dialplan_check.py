"""The daemon asks the PBX whether the dialplan ``ctiserver dialplan render`` writes is loaded — AMI
``ShowDialPlan`` per rendered context, over the wire against the simulator (which answers as pbx.c's
``manager_show_dialplan``): a missing context is reported (``/health`` ``checks.dialplan`` false, an error log
with the fix) until a reload brings it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import yaml

from ctiserver.api.component import ApiServer
from ctiserver.app import COMPONENTS, running
from ctiserver.config import Config
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.dialplan_check import DialplanCheck, contexts_of, rendered_contexts
from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get


async def test_show_dialplan_lists_priorities_and_refuses_a_missing_context() -> None:
    async with Simulator() as sim:
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            listed = await ami.action("ShowDialPlan", [("Context", "from-external"), ("Extension", "601")])
            assert get(listed, "Message") == "DialPlan statistics will follow"
            done = await ami.wait_event("ShowDialPlanComplete")
            items = [m for m in ami.events("ListDialplan")]
            steps = [(get(m, "Context"), get(m, "Extension"), get(m, "Priority"), get(m, "Application")) for m in items]
            assert steps == [
                ("from-external", "601", "1", "Answer"),
                ("from-external", "601", "2", "Playback"),
                ("from-external", "601", "3", "Hangup"),
            ]
            assert get(items[1], "AppData") == "hello-world" and get(items[0], "Registrar") == "pbx_config"
            assert (get(done, "ListItems"), get(done, "ListContexts")) == ("3", "1")
            gone = await ami.action("ShowDialPlan", [("Context", "ctiserver-amd")])
            assert (get(gone, "Response"), get(gone, "Message")) == ("Error", "Did not find context ctiserver-amd")
        finally:
            await ami.close()


async def test_a_context_the_pbx_lacks_is_reported_until_it_is_loaded() -> None:
    config = Config()
    contexts = await contexts_of(config)
    assert {"ctiserver-outbound", "ctiserver-dialer", "ctiserver-amd", "from-external"} <= set(contexts)
    assert "globals" not in contexts
    base = SimConfig()
    plan = {c: base.dialplan.get(c, {"s": (Step(app="NoOp"),)}) for c in contexts if c != "ctiserver-amd"}
    async with Simulator(base.model_copy(update={"dialplan": plan})) as sim:
        ami = AmiClient(config.pbx.ami.model_copy(update={"port": sim.ami_port}), sim.clock)
        async with ami:
            check = DialplanCheck(ami, contexts, sim.clock)
            assert check.ok  # nothing known yet: no alarm
            await ami.connected.wait()
            report = await check.check_once()
            assert report.missing == ("ctiserver-amd",) and not check.ok and report.error is None
            sim.engine.config.dialplan["ctiserver-amd"] = {"s": (Step(app="AMD"),)}  # `dialplan reload`
            assert (await check.check_once()).missing == () and check.ok


def test_rendered_contexts_reads_the_headers() -> None:
    text = "[globals]\nX = 1\n\n[from-external]\nexten => 100,1,NoOp()\n[ctiserver-amd] ; AMD\n[from-external]\n"
    assert rendered_contexts(text) == ("from-external", "ctiserver-amd")


async def test_the_daemon_reports_a_missing_dialplan_on_health(tmp_path: Path) -> None:
    """The whole daemon against a simulated PBX whose dialplan lacks ``ctiserver-outbound`` (the admin copied an
    old file): ``/health`` says degraded with ``checks.dialplan`` false — before any call-back fails on it."""
    sim_conf = SimConfig()
    plan = {c: steps for c, steps in sim_conf.dialplan.items() if c != "ctiserver-outbound"}
    (tmp_path / "sim.yaml").write_text(
        yaml.safe_dump(sim_conf.model_copy(update={"dialplan": plan}).model_dump(mode="json")), encoding="utf-8"
    )
    (tmp_path / "ivr").mkdir()
    config = Config.model_validate(
        {
            "api": {"host": "127.0.0.1", "port": 0},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite", "spool_dir": str(tmp_path / "spool")},
            "data_dir": str(tmp_path),
            "simulator": {"enabled": True, "config_file": str(tmp_path / "sim.yaml")},
            "ivr": {"scripts_dir": str(tmp_path / "ivr")},
            "pbx": {"dialplan_check": 0.2},
        }
    )
    async with running(config, components=COMPONENTS) as ctx:
        check = ctx.require(DialplanCheck)
        assert "ctiserver-outbound" in check.contexts
        for _ in range(100):
            if check.report.checked_at is not None:
                break
            await asyncio.sleep(0.1)
        assert "ctiserver-outbound" in check.report.missing
        async with aiohttp.ClientSession() as http, http.get(ctx.require(ApiServer).url + "/health") as resp:
            body = await resp.json()
    assert body["status"] == "degraded" and body["checks"]["dialplan"] is False and body["checks"]["ami"] is True
