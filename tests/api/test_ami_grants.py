"""An AMI user whose manager.conf ``write =`` lacks classes the daemon needs (here ``agent`` and ``originate``:
app_queue log-ins and the dialler's Originate): after the login the daemon asks ``ListCommands``, logs each
missing action with what it is for and the fix, and ``/health`` says ``ami_grants: false``; once manager.conf
grants them, the next login clears it. The whole daemon against the simulator, whose AMI refuses actions outside
the user's write classes as Asterisk 22 does (``Permission denied``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.pbx.ami_grants import AmiGrants
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.api.crash_daemon import COMPONENTS, config
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for


async def _health(d: Daemon, http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get(d.url + "/health", headers=d.auth("monitor")) as resp:
        return dict(await resp.json())


async def test_missing_write_classes_are_named_with_their_fix_until_granted(tmp_path: Path) -> None:
    async with Simulator(SimConfig(ami_write="system,call,reporting")) as sim:
        cfg = config(tmp_path, sim.ami_port, sim.ari_url)
        cfg["acd"] = {**cfg["acd"], "observer": True}
        async with daemon(tmp_path, COMPONENTS, **cfg) as d, aiohttp.ClientSession() as http:
            grants = d.ctx.require(AmiGrants)
            await wait_for(lambda: grants.report.checked_at is not None, limit=10.0)
            missing = {line.split(" ", 1)[0]: line for line in grants.report.missing}
            assert set(missing) == {"Originate", "QueueAdd", "QueuePause", "QueueRemove"}
            assert missing["Originate"] == (
                "Originate (the dialler's calls): add one of originate to the AMI user's write = in manager.conf"
            )
            assert "agents' log-in and pauses in app_queue" in missing["QueueAdd"]
            assert "agent to the AMI user's write = in manager.conf and load app_queue" in missing["QueueAdd"]
            health = await _health(d, http)
            assert health["status"] == "degraded" and health["checks"]["ami_grants"] is False
            sim.config = sim.config.model_copy(update={"ami_write": "system,call,agent,user,originate,reporting"})
            checked = grants.report.checked_at
            sim.drop_connections()  # write classes are read at login: the admin reloads manager.conf, we log in
            await wait_for(lambda: grants.report.checked_at != checked, limit=15.0)
            assert grants.report.missing == ()
            assert (await _health(d, http))["checks"]["ami_grants"] is True


@pytest.mark.parametrize("recording", [True, False])
async def test_the_ami_desk_asks_for_mixmonitor_only_when_it_can_record(tmp_path: Path, recording: bool) -> None:
    """An AMI user without the ``system`` class: the dialler's clean-up of the opt-outs the PBX kept (``DBDel``) is
    reported missing; with the recording service, MixMonitor (``system``) too — nothing else of the AMI desk."""
    components = tuple(c for c in COMPONENTS if recording or c != "ctiserver.recording.component")
    async with Simulator(SimConfig(ami_write="call,reporting,originate,config")) as sim:
        cfg = config(tmp_path, sim.ami_port, sim.ari_url)
        cfg["dialer"] = {"desk": "ami", "agents": ["1001"]}
        del cfg["acd"]
        components = tuple(c for c in components if c != "ctiserver.acd.component")
        async with daemon(tmp_path, components, **cfg) as d:
            grants = d.ctx.require(AmiGrants)
            await wait_for(lambda: grants.report.checked_at is not None, limit=10.0)
            missing = {line.split(" ", 1)[0] for line in grants.report.missing}
    assert missing == ({"MixMonitor", "DBDel"} if recording else {"DBDel"})
