"""Recording control by call id for an app_queue call (observer mode: the engine's ACD does not hold it) through
the same REST route as the ACD's calls: ``MixMonitor`` on the caller's channel, paused and resumed with
``MixMonitorMute`` (card numbers), ended by the caller's hang-up — with the same metadata and events as a
bridge recording, the queue's policy applied (``never`` refuses), and the file downloadable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.events.log import EventLog
from tests.api.app_queue import COMPONENTS, answered_call
from tests.api.harness import daemon
from tests.servers.redis import wait_for


def _config(tmp_path: Path, policy: str, app_queue: bool = False) -> dict[str, Any]:
    return {
        "simulator": {"enabled": True},
        "acd": {"observer": True, "agents": [{"id": "1001", "device": "PJSIP/1001"}]},
        "recording": {
            "directory": str(tmp_path / "rec"),
            "default_policy": "always",
            "queues": {"support": {"policy": policy}},
            "app_queue": app_queue,
        },
    }


async def test_record_pause_resume_an_app_queue_call(tmp_path: Path) -> None:
    async with daemon(tmp_path, COMPONENTS, **_config(tmp_path, "on_demand")) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=2.5)
        path = f"/api/calls/{call_id}/recording"
        status, body = await d.post(http, path, {"action": "pause"}, "agent")
        assert status == 409 and "no live recording" in body["message"]
        status, meta = await d.post(http, path, {"action": "start"}, "agent")
        assert status == 200, meta
        assert meta["target"] == f"mixmonitor:{call.channel.name}" and meta["state"] == "recording"
        assert meta["queue"] == "support" and meta["agent"] == "1001"
        assert call.channel.mixmonitor is not None  # the PBX records the caller's channel
        status, paused = await d.post(http, path, {"action": "pause"}, "agent")
        assert status == 200 and paused["state"] == "paused"
        assert call.channel.mixmonitor.muted
        status, resumed = await d.post(http, path, {"action": "resume"}, "agent")
        assert status == 200 and resumed["state"] == "recording" and not call.channel.mixmonitor.muted
        log = d.ctx.require(EventLog)
        await call.done.wait()
        await wait_for(lambda: any(e.type == "recording.ready" for e in log._ring), limit=10.0)
        ready = next(dict(e.data) for e in log._ring if e.type == "recording.ready")
        assert ready["name"] == meta["name"] and ready["state"] == "done" and ready["size"] > 44
        assert [p["by"] for p in ready["pauses"]] == ["api"]
        async with http.get(d.url + f"/api/recordings/{meta['name']}", headers=d.auth("supervisor")) as resp:
            assert resp.status == 200 and len(await resp.read()) == ready["size"]


async def test_a_queue_never_recorded_refuses(tmp_path: Path) -> None:
    async with daemon(tmp_path, COMPONENTS, **_config(tmp_path, "never")) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=30.0)
        status, body = await d.post(http, f"/api/calls/{call_id}/recording", {"action": "start"}, "agent")
        assert status == 409 and "never recorded" in body["message"], body
        assert call.channel.mixmonitor is None


@pytest.mark.parametrize("app_queue", [False, True])
async def test_queue_policy_records_app_queue_calls_when_asked(tmp_path: Path, app_queue: bool) -> None:
    """``recording.app_queue``: an app_queue call whose queue always records is recorded when the agent answers
    (off, the default: queues.conf may record them itself, and nothing starts)."""
    cfg = _config(tmp_path, "always", app_queue=app_queue)
    async with daemon(tmp_path, COMPONENTS, **cfg) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=1.5)
        log = d.ctx.require(EventLog)
        await call.done.wait()
        if app_queue:
            await wait_for(lambda: any(e.type == "recording.ready" for e in log._ring), limit=10.0)
        else:
            await asyncio.sleep(0.5)
        started = [dict(e.data) for e in log._ring if e.type == "recording.started"]
        ready = [dict(e.data) for e in log._ring if e.type == "recording.ready"]
    if not app_queue:
        assert not started and not ready
        return
    assert [r["call_id"] for r in started] == [call_id]
    assert started[0]["target"] == f"mixmonitor:{call.channel.name}" and started[0]["agent"] == "1001"
    assert ready[0]["state"] == "done" and 0.5 < ready[0]["duration"] < 1.6, ready


async def test_a_stop_request_and_the_hang_up_at_once_end_the_recording_once(tmp_path: Path) -> None:
    """Both end the same recording: one file read, one ``recording.ready`` (each consumer — CRM, webhooks — saw
    two before), and the request answers with that end."""
    async with daemon(tmp_path, COMPONENTS, **_config(tmp_path, "on_demand")) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=60.0)
        path = f"/api/calls/{call_id}/recording"
        status, meta = await d.post(http, path, {"action": "start"}, "agent")
        assert status == 200, meta
        stop = asyncio.create_task(d.post(http, path, {"action": "stop"}, "agent"))
        call.hangup()
        status, stopped = await stop
        assert status == 200 and stopped["state"] == "done", stopped
        await asyncio.sleep(1.0)  # a second end would be published by now
        log = d.ctx.require(EventLog)
        assert [dict(e.data)["name"] for e in log._ring if e.type == "recording.ready"] == [meta["name"]]


async def test_a_calls_recordings_show_their_state_to_its_agent_only(tmp_path: Path) -> None:
    async with daemon(tmp_path, COMPONENTS, **_config(tmp_path, "on_demand")) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=60.0)

        async def listed(role: str) -> list[dict[str, Any]]:
            url = d.url + f"/api/calls/{call_id}/recordings"
            async with http.get(url, headers=d.auth(role)) as resp:
                assert resp.status == 200, await resp.text()
                return list(await resp.json())

        assert await listed("agent") == []
        path = f"/api/calls/{call_id}/recording"
        status, meta = await d.post(http, path, {"action": "start"}, "agent")
        assert status == 200, meta
        await d.post(http, path, {"action": "pause"}, "agent")
        [mine] = await listed("agent")
        assert mine["name"] == meta["name"] and mine["state"] == "paused" and mine["agent"] == "1001"
        assert [r["state"] for r in await listed("supervisor")] == ["paused"]
        assert await listed("agent2") == []  # another agent's conversation
        call.hangup()
        await wait_for(lambda: any(e.type == "recording.ready" for e in d.ctx.require(EventLog)._ring), limit=10.0)
        assert [r["state"] for r in await listed("agent")] == ["done"]
