"""Calls going on while the daemon restarts keep their history (``calls/checkpoints.py``): the next run takes
each back with its start, its queue stays and who answered, so the reports count one queue stay per caller —
entered before the restart, answered or abandoned after it — and the conversation's talk time, instead of a new
call adopted halfway with no queue stay at all. Both ways a daemon goes: a graceful stop (an upgrade) with
app_queue callers waiting, and a SIGKILL with the engine's own ACD talking and queueing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.calls.service import CallService
from ctiserver.events.log import EventLog
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import CallHandle, Simulator
from tests.api.crash_daemon import COMPONENTS as CHILD_COMPONENTS
from tests.api.crash_daemon import config as child_config
from tests.api.harness import Daemon, daemon
from tests.api.test_restart_recovery import NO_SIM, _killed_mid_call, _observer, _pbx
from tests.servers.redis import wait_for

_CALLS = NO_SIM.index("ctiserver.calls.component") + 1
WITH_KPIS = (*NO_SIM[:_CALLS], "ctiserver.kpi.component", *NO_SIM[_CALLS:])  # the live KPIs after the calls


def _rows(tmp: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp / "cti.sqlite") as db:
        return db.execute(sql, args).fetchall()


def _stays(tmp: Path, call_id: str) -> list[tuple[Any, ...]]:
    return _rows(
        tmp,
        "select queue, entered, outcome, wait_seconds, agent, talk_seconds from queue_segments"
        " where call_id = ? order by seq",
        call_id,
    )


def _types(d: Daemon, type_: str, call_id: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in d.ctx.require(EventLog)._ring if e.type == type_ and e.subject == call_id]


async def _ended(d: Daemon, call: CallHandle, call_id: str) -> None:
    call.hangup()
    await call.done.wait()
    await wait_for(lambda: bool(_types(d, "call.ended", call_id)), limit=10.0)
    await d.ctx.require(CallService).flush()


@pytest.mark.parametrize("answered", ["after the restart", "while no daemon ran"])
async def test_an_app_queue_caller_waiting_through_a_graceful_restart_has_one_queue_stay(
    tmp_path: Path, answered: str
) -> None:
    """Answered after the restart, the ``AgentConnect`` names the stay taken back; answered while no daemon ran,
    the resync finds the caller bridged with the agent's leg (``queue_events.answered_while_away``)."""
    async with Simulator(SimConfig()) as sim:
        cfg = {**_observer(tmp_path), "pbx": _pbx(sim)}
        async with daemon(tmp_path, NO_SIM, **cfg) as d:
            call = sim.place_call(from_number="5550123", to="200", hangup_after=600.0)
            await wait_for(lambda: call.channel is not None, limit=10.0)
            assert call.channel is not None
            call_id = call.channel.linkedid
            await wait_for(lambda: bool(_types(d, "queue.entered", call_id)), limit=10.0)
            entered = d.ctx.require(EventLog)._ring[-1].time
        started = _rows(tmp_path, "select checkpoint from live_calls where call_id = ?", call_id)
        assert len(started) == 1  # saved at the stop
        await asyncio.sleep(1.5)  # nobody follows the caller, who waits on in app_queue
        if answered == "while no daemon ran":  # the agent logs in on the phone
            sim.agent("1001", answer_after=0.2)
            sim.engine.queues.add("support", "PJSIP/1001", "Agent 1001")
            await wait_for(lambda: call.channel is not None and call.channel.bridge is not None, limit=10.0)
        async with daemon(tmp_path, NO_SIM, **cfg) as d, aiohttp.ClientSession() as http:
            if answered == "after the restart":
                sim.agent("1001", answer_after=0.2)
                url = d.url + "/api/observer/agents/1001/login"
                async with http.post(url, headers=d.auth("agent"), json={"queues": ["support"]}) as resp:
                    assert resp.status == 200, await resp.text()
                await wait_for(lambda: bool(_types(d, "agent.answered", call_id)), limit=10.0)
            else:
                await wait_for(lambda: bool(_types(d, "queue.left", call_id)), limit=10.0)
            await asyncio.sleep(1.0)
            await _ended(d, call, call_id)
        [(queue, since, outcome, wait, agent, talk)] = _stays(tmp_path, call_id)
        assert (queue, outcome, agent) == ("support", "answered", "1001")
        assert since <= entered + 0.5 and wait >= 1.5  # from before the restart
        assert talk >= 0.9
        [(first_seen,)] = _rows(tmp_path, "select started from calls where call_id = ?", call_id)
        assert first_seen <= since
        assert not _rows(tmp_path, "select * from live_calls")
        async with daemon(tmp_path, WITH_KPIS, **cfg) as d, aiohttp.ClientSession() as http:  # the wallboard
            async with http.get(d.url + "/api/queues", headers=d.auth("supervisor")) as resp:  # after a restart
                assert resp.status == 200
                [support] = [q for q in await resp.json() if q["queue"] == "support"]
        today = support["windows"]["today"]
        assert (today["offered"], today["answered"]) == (1, 1) and today["aht"] >= talk  # kpi/warm.py


async def test_calls_a_killed_daemon_left_keep_their_queue_stays(tmp_path: Path) -> None:
    """The engine's ACD (Stasis): one caller talking to agent 1001, one waiting in ``support`` when the daemon
    is killed. In the next run the conversation ends (its stay: answered by 1001, with its talk time) and the
    caller routed again is answered by 1001 after its wrap-up: one stay, from its first entry."""
    async with Simulator(SimConfig(recordings_dir=str(tmp_path / "rec"))) as sim:
        talk, waiting, _ = await _killed_mid_call(tmp_path, sim)
        assert talk.channel is not None and waiting.channel is not None
        talk_id, waiting_id = talk.channel.linkedid, waiting.channel.linkedid
        [(killed_at,)] = _rows(tmp_path, "select max(seen) from live_calls")
        async with daemon(tmp_path, CHILD_COMPONENTS, **child_config(tmp_path, sim.ami_port, sim.ari_url)) as d:
            await asyncio.sleep(1.0)
            await _ended(d, talk, talk_id)
            await wait_for(lambda: bool(_types(d, "agent.answered", waiting_id)), limit=30.0)
            await _ended(d, waiting, waiting_id)
        [(queue, entered, outcome, _wait, agent, talk_seconds)] = _stays(tmp_path, talk_id)
        assert (queue, outcome, agent) == ("support", "answered", "1001")
        assert entered < killed_at and talk_seconds > 1.0
        [(queue, entered, outcome, wait, agent, _talk)] = _stays(tmp_path, waiting_id)
        assert (queue, outcome, agent) == ("support", "answered", "1001")
        assert entered < killed_at and wait > 1.0
        assert not _rows(tmp_path, "select * from live_calls")
