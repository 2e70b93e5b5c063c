"""The daemon asks the PBX whether the dialplan ``ctiserver dialplan render`` writes is loaded — AMI
``ShowDialPlan`` per rendered context, over the wire against the simulator (which answers as pbx.c's
``manager_show_dialplan``): a missing context, or one whose loaded priorities differ from the render (a DID
added, AMD settings changed without a new render and reload), is reported (``/health`` ``checks.dialplan``
false, an error log with the fix) until a reload brings it; the simulator runs the rendered file itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import yaml

from ctiserver.api.auth import Role
from ctiserver.api.component import ApiServer
from ctiserver.app import COMPONENTS, running
from ctiserver.cli.dialplan import render
from ctiserver.config import Config
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.dialplan_check import DialplanCheck, rendered_of
from ctiserver.sim.config import SimConfig, Step, read_extensions_conf
from ctiserver.sim.simulator import Simulator
from tests.api.harness import Daemon
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


async def test_a_missing_or_stale_context_is_reported_until_it_is_loaded(tmp_path: Path) -> None:
    config = Config()
    rendered = await rendered_of(config)
    assert {"ctiserver-outbound", "ctiserver-dialer", "ctiserver-amd", "from-external"} <= set(rendered.contexts)
    assert "globals" not in rendered.contexts
    (tmp_path / "extensions_ctiserver.conf").write_text(render(config), encoding="utf-8")
    loaded = read_extensions_conf(tmp_path / "extensions_ctiserver.conf")  # what `dialplan reload` loads
    amd = loaded.pop("ctiserver-amd")
    async with Simulator(SimConfig(dialplan=loaded)) as sim:
        ami = AmiClient(config.pbx.ami.model_copy(update={"port": sim.ami_port}), sim.clock)
        async with ami:
            check = DialplanCheck(ami, rendered, sim.clock)
            assert check.ok  # nothing known yet: no alarm
            await ami.connected.wait()
            report = await check.check_once()
            assert report.missing == ("ctiserver-amd",) and report.stale == () and not check.ok
            assert report.error is None
            plan = sim.engine.config.dialplan
            plan["ctiserver-amd"] = amd  # `dialplan reload`
            assert (await check.check_once()).missing == () and check.ok

            # the configuration changed, the file was not rendered again: AMD settings differ, a DID is gone;
            # the admin's own extension in our context is no difference
            steps = list(amd["s"])
            steps[1] = Step(app="AMD", data="3000,1500,800,5000,100,50,2,256,5000")
            plan["ctiserver-amd"] = {**amd, "s": tuple(steps)}
            outbound = plan["from-external"]
            plan["from-external"] = {"999": (Step(app="Hangup"),), **{e: v for e, v in outbound.items() if e != "101"}}
            report = await check.check_once()
            assert not check.ok and report.missing == ()
            assert report.stale == (
                "from-external 101,1: not loaded (NoOp(DID 101 from ${CALLERID(all)}) rendered)",
                "from-external 101,2: not loaded (Stasis(${CTI_APP},did,101) rendered)",
                "from-external 101,3: not loaded (Hangup() rendered)",
                "ctiserver-amd s,2: AMD(3000,1500,800,5000,100,50,2,256,5000) loaded,"
                " AMD(2500,1500,800,5000,100,50,2,256,5000) rendered",
            ), report.stale
            plan["ctiserver-amd"], plan["from-external"] = amd, outbound
            assert (await check.check_once()).stale == () and check.ok


async def test_the_daemon_reports_a_missing_dialplan_on_health(tmp_path: Path) -> None:
    """The whole daemon against a simulated PBX whose dialplan lacks ``ctiserver-outbound`` (the admin copied an
    old file): ``/health`` says degraded with ``checks.dialplan`` false — before any call-back fails on it."""
    sim_conf = SimConfig()
    plan = {c: steps for c, steps in sim_conf.dialplan.items() if c != "ctiserver-outbound"}
    (tmp_path / "sim.yaml").write_text(
        yaml.safe_dump(sim_conf.model_copy(update={"dialplan": plan}).model_dump(mode="json")), encoding="utf-8"
    )
    body, check = await _health(_daemon(tmp_path))
    assert "ctiserver-outbound" in check.contexts and "ctiserver-outbound" in check.report.missing
    assert body["status"] == "degraded" and body["checks"]["dialplan"] is False and body["checks"]["ami"] is True


def _daemon(tmp_path: Path, **more: object) -> Config:
    """The whole daemon on SQLite in ``tmp_path`` with the simulator of ``tmp_path/sim.yaml``, checking every 0.2 s."""
    (tmp_path / "ivr").mkdir(exist_ok=True)
    base = {
        "api": {"host": "127.0.0.1", "port": 0},
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite", "spool_dir": str(tmp_path / "spool")},
        "data_dir": str(tmp_path),
        "simulator": {"enabled": True, "config_file": str(tmp_path / "sim.yaml")},
        "ivr": {"scripts_dir": str(tmp_path / "ivr")},
        "pbx": {"dialplan_check": 0.2},
    }
    return Config.model_validate({**base, **more})


async def _health(config: Config, then: Path | None = None) -> tuple[dict[str, object], DialplanCheck]:
    """``/health`` once the check has run; ``then``: an IVR script with DID 105 written after that, and the
    check waited for until it has seen it (it renders anew each round)."""
    async with running(config, components=COMPONENTS) as ctx:
        check = ctx.require(DialplanCheck)
        for _ in range(100):
            if check.report.checked_at is not None:
                break
            await asyncio.sleep(0.1)
        d = Daemon(ctx, ctx.require(ApiServer))
        headers = {"Authorization": f"Bearer {await d.token(Role.MONITOR)}"}
        async with aiohttp.ClientSession() as http, http.get(d.url + "/health", headers=headers) as resp:
            body = await resp.json()
        if then is not None:
            await asyncio.to_thread(then.write_text, 'script: sales\ndids: ["105"]\n', encoding="utf-8")
            for _ in range(100):
                if any(" 105," in line for line in check.report.stale):
                    break
                await asyncio.sleep(0.1)
        return body, check


async def test_the_daemon_finds_its_rendered_dialplan_current_and_a_new_did_stale(tmp_path: Path) -> None:
    """The simulated PBX loads the file ``ctiserver dialplan render`` wrote (as Asterisk would after ``dialplan
    reload``): the check finds nothing to report. Then DID 102 is added to the configuration and the daemon
    restarted without a new render: ``/health`` is degraded and the report names the extensions not loaded. An
    IVR script that brings a DID while the daemon runs is seen at the next round."""
    dids = [{"number": "100"}, {"number": "101"}]
    config = _daemon(tmp_path, dialplan={"dids": dids})
    (tmp_path / "extensions_ctiserver.conf").write_text(render(config), encoding="utf-8")
    sim = {"dialplan": {}, "dialplan_files": ["extensions_ctiserver.conf"]}
    (tmp_path / "sim.yaml").write_text(yaml.safe_dump(sim), encoding="utf-8")
    body, check = await _health(config, then=tmp_path / "ivr" / "sales.yaml")
    assert body["status"] == "ok" and body["checks"]["dialplan"] is True, body
    # a script with a new DID, hot-reloaded by the IVR, no new render: the check renders anew and sees it
    assert check.report.stale[0].startswith("from-external 105,1: not loaded"), check.report.stale
    (tmp_path / "ivr" / "sales.yaml").unlink()

    body, check = await _health(_daemon(tmp_path, dialplan={"dids": [*dids, {"number": "102"}]}))
    assert body["status"] == "degraded" and body["checks"]["dialplan"] is False, body
    assert check.report.missing == () and len(check.report.stale) == 4, check.report.stale
    assert check.report.stale[0].startswith("from-external 102,1: not loaded (NoOp(DID 102")
    assert check.report.stale[3] == "from-agents 102,1: not loaded (Goto(from-external,102,1) rendered)"
