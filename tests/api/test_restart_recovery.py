"""What the daemon did not see end: a caller's ``Hangup`` sent while the AMI link was down, and what a stopped or
killed daemon left on the PBX — recordings still running, calls still in our Stasis application. Each recording
ends (file read, ``recording.ready``, downloadable) instead of staying ``recording`` for ever, out of reach of the
retention purge; a bridge recording left behind is stopped on the PBX; a conversation goes on and is cleaned up
when a party hangs up; a caller left waiting is served again. The restart tests keep one simulator across two
runs of the daemon on the same database (the killed one is a child process: ``crash_daemon.py``)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.resume import RESUME_GRACE
from ctiserver.acd.service import AcdService
from ctiserver.events.log import EventLog
from ctiserver.recording.service import RecordingService
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import CallHandle, Simulator
from tests.api.app_queue import COMPONENTS, answered_call
from tests.api.crash_daemon import COMPONENTS as CHILD_COMPONENTS
from tests.api.crash_daemon import config as child_config
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for

NO_SIM = tuple(c for c in COMPONENTS if c != "ctiserver.sim.component")
CHILD = Path(__file__).with_name("crash_daemon.py")


def _observer(tmp_path: Path) -> dict[str, Any]:
    return {
        "acd": {"observer": True, "agents": [{"id": "1001", "device": "PJSIP/1001"}]},
        "recording": {"directory": str(tmp_path / "rec"), "default_policy": "on_demand"},
    }


def _pbx(sim: Simulator) -> dict[str, Any]:
    c = sim.config
    return {
        "ami": {"host": c.host, "port": sim.ami_port, "username": c.ami_user, "secret": c.ami_secret},
        "ari": {"url": sim.ari_url, "username": c.ari_user, "password": c.ari_password},
    }


def _events(d: Daemon, type_: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in d.ctx.require(EventLog)._ring if e.type == type_]


async def test_a_hangup_missed_while_the_ami_link_was_down_ends_the_recording(tmp_path: Path) -> None:
    cfg = {**_observer(tmp_path), "simulator": {"enabled": True}}
    async with daemon(tmp_path, COMPONENTS, **cfg) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        call, call_id = await answered_call(d, http, talk=60.0)
        status, meta = await d.post(http, f"/api/calls/{call_id}/recording", {"action": "start"}, "agent")
        assert status == 200, meta
        sim.drop_connections()
        call.hangup()  # its Hangup reaches nobody
        await call.done.wait()
        await wait_for(lambda: bool(_events(d, "recording.ready")), limit=15.0)  # CoreShowChannels after login
        [ready] = _events(d, "recording.ready")
        assert ready["name"] == meta["name"] and ready["state"] == "done" and ready["size"] > 44


async def _recorded_by_an_earlier_run(
    tmp_path: Path, sim: Simulator, cfg: dict[str, Any], talk: float
) -> tuple[CallHandle, str, dict[str, Any]]:
    """An app_queue call answered by agent 1001 and recorded (MixMonitor) through the API of a daemon that then
    stops, the call and its recording going on: the call, its id and the recording's metadata."""
    async with daemon(tmp_path, NO_SIM, **cfg) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=talk, sim=sim)
        status, meta = await d.post(http, f"/api/calls/{call_id}/recording", {"action": "start"}, "agent")
        assert status == 200, meta
    assert call.channel is not None and call.channel.mixmonitor is not None  # recording on without us
    return call, call_id, meta


@pytest.mark.parametrize("hung_up_meanwhile", [True, False])
async def test_a_restarted_daemon_ends_the_mixmonitor_recordings_an_earlier_run_left(
    tmp_path: Path, hung_up_meanwhile: bool
) -> None:
    async with Simulator(SimConfig()) as sim:
        cfg = {**_observer(tmp_path), "pbx": _pbx(sim)}
        call, call_id, meta = await _recorded_by_an_earlier_run(tmp_path, sim, cfg, talk=60.0)
        if hung_up_meanwhile:
            call.hangup()
            await call.done.wait()
        async with daemon(tmp_path, NO_SIM, **cfg) as d, aiohttp.ClientSession() as http:
            service = d.ctx.require(RecordingService)
            if not hung_up_meanwhile:  # taken over, and followed to the caller's hang-up
                await wait_for(lambda: meta["name"] in service._live, limit=10.0)
                assert not _events(d, "recording.ready")
                call.hangup()
            await wait_for(lambda: bool(_events(d, "recording.ready")), limit=15.0)
            [ready] = _events(d, "recording.ready")
            assert ready["name"] == meta["name"] and ready["state"] == "done" and ready["size"] > 44
            assert ready["call_id"] == call_id and ready["agent"] == "1001"
            url = d.url + f"/api/recordings/{meta['name']}"
            async with http.get(url, headers=d.auth("supervisor")) as resp:
                assert resp.status == 200 and len(await resp.read()) == ready["size"]


async def test_a_recorded_channel_s_name_taken_again_after_an_asterisk_restart_ends_the_recording(
    tmp_path: Path,
) -> None:
    """Asterisk numbers channels from 0 in each process (chan_pjsip's ``chan_idx``): the recorded call's channel
    hangs up in a restart no daemon saw, and the first call after it gets the same name. The next run must not
    take that new channel for the recorded one: it is younger than the recording (``CoreShowChannel``
    ``Duration``), so the recording has ended — ``recording.ready`` now, not when the new call hangs up."""
    async with Simulator(SimConfig()) as sim:
        cfg = {**_observer(tmp_path), "pbx": _pbx(sim)}
        call, _, meta = await _recorded_by_an_earlier_run(tmp_path, sim, cfg, talk=600.0)
        assert call.channel is not None
        recorded = call.channel.name
        await asyncio.sleep(3.0)  # the recording is a few seconds old
        await sim.restart()  # nobody listens: its Hangup reaches no daemon
        await call.done.wait()
        again = sim.place_call(from_number="5550123", to="200", hangup_after=600.0)  # waits: no member since
        await wait_for(lambda: again.channel is not None and again.channel.name == recorded, limit=10.0)
        async with daemon(tmp_path, NO_SIM, **cfg) as d:
            await wait_for(lambda: bool(_events(d, "recording.ready")), limit=10.0)
            [ready] = _events(d, "recording.ready")
            assert ready["name"] == meta["name"] and ready["state"] == "done"
            assert not again.done.is_set()  # ended by the look at the PBX, not by the new call's hang-up


async def _line(proc: asyncio.subprocess.Process, prefix: str) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while not (line := (await proc.stdout.readline()).decode()).startswith(prefix):
            assert line, "the child daemon exited"
    return line[len(prefix) :].strip()


def _checkpointed(tmp: Path, containing: str) -> int:
    """How many calls in progress the database holds whose checkpoint has ``containing``."""
    with sqlite3.connect(tmp / "cti.sqlite") as db:
        rows = db.execute("select checkpoint from live_calls").fetchall()
    return sum(containing in str(checkpoint) for (checkpoint,) in rows)


async def _killed_mid_call(tmp_path: Path, sim: Simulator) -> tuple[CallHandle, CallHandle, str]:
    """The child daemon, SIGKILLed with one call talking (recorded: the recording's name) and one waiting alone
    in the queue, both checkpointed with their queue stays."""
    sim.agent("1001", answer_after=0.2)
    args = (str(tmp_path), str(sim.ami_port), sim.ari_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await _line(proc, "READY")
        talk = sim.place_call(from_number="5550123", to="100", hangup_after=600.0)
        name = await _line(proc, "STARTED ")
        waiting = sim.place_call(from_number="5550124", to="100", hangup_after=600.0)
        await wait_for(lambda: waiting.channel is not None and waiting.channel.stasis_app is not None)
        await asyncio.sleep(0.5)  # through the IVR into the queue: nobody free
        await wait_for(lambda: _checkpointed(tmp_path, '"queues":[{"queue":"support"') == 2, limit=10.0)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert name in sim.engine.recordings  # the PBX records on without the daemon
    return talk, waiting, name


async def test_a_daemon_killed_mid_call_leaves_calls_its_successor_takes_care_of(tmp_path: Path) -> None:
    """SIGKILL (a graceful stop hangs its calls up and ends their recordings itself): the PBX keeps the calls in
    Stasis and the bridge recording running. In the next run the conversation goes on, recorded; when the caller
    hangs up, the agent's leg is hung up and the bridge destroyed (``control/orphans.py``), which ends the
    recording: its file is read and ``recording.ready`` published (``RecordingService.recover``). A caller
    waiting alone in the queue is routed again into the IVR."""
    async with Simulator(SimConfig(recordings_dir=str(tmp_path / "rec"))) as sim:
        talk, waiting, name = await _killed_mid_call(tmp_path, sim)
        assert talk.channel is not None and talk.channel.bridge is not None
        bridge = talk.channel.bridge
        [agent_leg] = [c for c in bridge.channels if c is not talk.channel]
        async with daemon(tmp_path, CHILD_COMPONENTS, **child_config(tmp_path, sim.ami_port, sim.ari_url)) as d:
            log = d.ctx.require(EventLog)
            await wait_for(lambda: any(e.type == "ivr.step" for e in log._ring), limit=15.0)
            assert not waiting.done.is_set()  # served again, not hung up
            service = d.ctx.require(RecordingService)
            await wait_for(lambda: name in service._live, limit=10.0)  # taken over
            await asyncio.sleep(2.5)  # more than one look at the PBX's live recording
            assert not talk.done.is_set() and not agent_leg.hung_up  # the conversation goes on…
            assert name in sim.engine.recordings and not _events(d, "recording.ready")  # …recorded
            agent = d.ctx.require(AcdService).agents.get("1001")
            assert agent.state is AgentState.ON_CALL  # …and the agent is on it, not ready (``acd/resume.py``)
            talk.hangup()
            await wait_for(lambda: agent_leg.hung_up, limit=10.0)
            # the phone is free (its device state): wrap-up, well before RESUME_GRACE
            await wait_for(lambda: agent.state is AgentState.WRAP_UP, limit=RESUME_GRACE / 3)
            await wait_for(lambda: bridge.id not in sim.engine.bridges, limit=10.0)
            await wait_for(lambda: bool(_events(d, "recording.ready")), limit=15.0)
            [ready] = _events(d, "recording.ready")
            assert ready["name"] == name and ready["state"] == "done" and ready["size"] > 44
            assert ready["queue"] == "support" and ready["agent"] == "1001"


@pytest.mark.parametrize("gone", ["caller", "both"])
async def test_parties_hanging_up_while_no_daemon_runs_leave_no_bridge_recording_for_ever(
    tmp_path: Path, gone: str
) -> None:
    """The caller (and the agent) hang up while the killed daemon is not yet restarted: the bridge the earlier run
    created stays on the PBX with its recording running (ARI bridges outlive their channels), the agent alone in
    it. The next run hangs the agent up and destroys the bridge — only then does the PBX end the recording, which
    is read as usual; another application's bridge is left alone."""
    async with Simulator(SimConfig(recordings_dir=str(tmp_path / "rec"))) as sim:
        talk, _waiting, name = await _killed_mid_call(tmp_path, sim)
        assert talk.channel is not None and talk.channel.bridge is not None
        bridge = talk.channel.bridge
        [agent_leg] = [c for c in bridge.channels if c is not talk.channel]
        talk.hangup()
        if gone == "both":
            sim.engine.hangup(agent_leg)
        await talk.done.wait()
        other = await _ari(sim, "POST", "/bridges", {"type": "mixing", "bridgeId": "br-other-app-1"})
        await asyncio.sleep(0.5)
        assert bridge.id in sim.engine.bridges and name in sim.engine.recordings  # recording on, nobody in it
        async with daemon(tmp_path, CHILD_COMPONENTS, **child_config(tmp_path, sim.ami_port, sim.ari_url)) as d:
            await wait_for(lambda: bridge.id not in sim.engine.bridges, limit=15.0)
            await wait_for(lambda: agent_leg.hung_up, limit=10.0)
            await wait_for(lambda: bool(_events(d, "recording.ready")), limit=15.0)
            [ready] = _events(d, "recording.ready")
            assert ready["name"] == name and ready["state"] == "done" and ready["size"] > 44
            assert other["id"] in sim.engine.bridges


async def _ari(sim: Simulator, method: str, path: str, params: dict[str, str]) -> Any:
    c = sim.config
    headers = {"Authorization": aiohttp.encode_basic_auth(c.ari_user, c.ari_password)}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, sim.ari_url + path, params=params) as r,
    ):
        assert r.status == 200, await r.text()
        return await r.json()
