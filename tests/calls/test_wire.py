"""The tracker driven over real sockets: simulator (AMI server) → AmiClient → CallService → bus, SQLite
store and live KPIs. Waits are on conditions with generous limits (the test machine is loaded)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ctiserver.calls.component import wire
from ctiserver.calls.leg_state import LegState
from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.config import AmiConfig, DatabaseConfig
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.kpi.live import LiveKpis
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiResponse
from ctiserver.sim.simulator import Simulator
from ctiserver.store.database import Database
from ctiserver.store.models import CallRow, LegRow, QueueSegmentRow

LIMIT = 60.0


async def until(predicate: Callable[[], bool], limit: float = LIMIT) -> None:
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110 - polls state other tasks change, under a deadline
            await asyncio.sleep(0.02)


@dataclass
class Rig:
    sim: Simulator
    client: AmiClient
    tracker: Tracker
    service: CallService
    db: Database
    live: LiveKpis
    seen: list[str] = field(default_factory=list)  # the types of the events published
    events: list[DomainEvent] = field(default_factory=list)  # the events published


@contextlib.asynccontextmanager
async def rig(tmp_path: Path, filtered: bool = True) -> AsyncIterator[Rig]:
    """The call service (tracker, publish/persist/release loops, live KPIs) on SQLite against the simulator's AMI,
    with ``pbx.ami.event_filters``' defaults (``filtered``) or none (every CEL record, ``Newexten`` …)."""
    bus = InMemoryBus()
    live = LiveKpis()
    sub = bus.subscribe("queue.*", "call.ended")
    db = Database(
        DatabaseConfig(
            url=f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}",  # type: ignore[arg-type]
            spool_dir=str(tmp_path / "spool"),
        )
    )
    await db.migrate()
    try:
        async with Simulator() as sim:
            tracker = Tracker()
            service = CallService(tracker, bus, db.writer)
            config = AmiConfig(port=sim.ami_port, reconnect_min=0.05, reconnect_max=0.3)
            client = AmiClient(config if filtered else config.model_copy(update={"event_filters": ()}))
            wire(service, client)
            r = Rig(sim, client, tracker, service, db, live)
            bus.listeners.append(lambda ev: r.seen.append(ev.type))
            bus.listeners.append(r.events.append)

            async def feed_live() -> None:
                while True:
                    live.on_event(await sub.get())

            tasks = [
                asyncio.create_task(c)
                for c in (service.publish_loop(), service.persist_loop(), service.release_loop(), feed_live())
            ]
            try:
                async with client:
                    await until(lambda: service.resyncs >= 1)
                    yield r
                    await service.flush()
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await db.close()


async def add_member(r: Rig, agent: str = "1001") -> None:
    res = await r.client.action(
        "QueueAdd", {"Queue": "support", "Interface": f"PJSIP/{agent}", "MemberName": f"Agent {agent}"}
    )
    assert isinstance(res, AmiResponse) and res.ok, res


async def test_queue_call_tracked_published_stored_and_counted(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.agent("1001", answer_after=0.3)
        await add_member(r)
        call = r.sim.place_call(from_number="5550100", from_name="Test Caller", to="200", hangup_after=2.0)
        await until(lambda: call.done.is_set())
        await until(lambda: not r.tracker.calls and len(r.tracker.finished) == 1)
        await r.service.flush()
        await until(lambda: r.live.queue("support", "15m").offered == 1)
        assert r.live.queue("support", "15m").answered == 1
    [done] = r.tracker.finished.values()
    assert sorted(leg.role.value for leg in done.legs.values()) == ["agent", "caller"]
    [seg] = done.queues
    assert seg.queue == "support" and seg.outcome == "answered" and seg.agent == "Agent 1001"
    assert seg.talk_seconds is not None
    for name in (
        "call.created",
        "leg.created",
        "call.answered",
        "queue.entered",
        "queue.left",
        "agent.answered",
        "leg.ended",
        "call.ended",
    ):
        assert name in r.seen, name
    assert r.seen.index("queue.entered") < r.seen.index("queue.left") < r.seen.index("call.ended")
    db = Database(r.db.config)
    try:
        async with db.sessions() as s:
            row = await s.get(CallRow, done.call_id)
            assert row is not None and row.caller_num == "5550100"
            legs = (await s.execute(select(LegRow).where(LegRow.call_id == done.call_id))).scalars().all()
            assert sorted(leg.role for leg in legs) == ["agent", "caller"]
            segs = (await s.execute(select(QueueSegmentRow))).scalars().all()
            assert [(x.queue, x.outcome) for x in segs] == [("support", "answered")]
    finally:
        await db.close()


async def test_leg_that_vanished_during_an_outage_is_closed_by_the_resync(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        call = r.sim.place_call(to="200")  # queue without members: the caller waits
        await until(lambda: len(r.tracker.legs) == 1)
        [uid] = r.tracker.legs
        resyncs = r.service.resyncs
        r.sim.drop_connections()
        call.hangup()  # its Hangup event is lost with the link
        await until(lambda: r.service.resyncs > resyncs)
        await until(lambda: uid not in r.tracker.legs)
    done = r.tracker.call_of(uid)
    assert done is not None
    leg = done.legs[uid]
    assert leg.state is LegState.ENDED and leg.end_reason == "vanished"
    assert done.end_reason == "vanished"


async def test_pbx_restart_closes_open_legs_with_a_reason(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.place_call(to="200")
        await until(lambda: len(r.tracker.legs) == 1)
        [uid] = r.tracker.legs
        await r.sim.restart(down_for=0.5)
        await until(lambda: uid not in r.tracker.legs)
        await until(lambda: r.service.resyncs >= 2)  # logged in again and resynced
    done = r.tracker.call_of(uid)
    # like real Asterisk (trace 12) the simulator may hang channels up before the Shutdown event; either
    # way nothing stays open (the rule itself: tests/calls/test_tracker_rules.py::test_restart_...)
    assert done is not None and done.legs[uid].state is LegState.ENDED
    assert done.legs[uid].end_reason in ("hangup", "pbx_shutdown", "pbx_restart")
    assert not r.tracker.legs


async def test_blind_transfer_and_originate_over_the_wire(tmp_path: Path) -> None:
    from ctiserver.calls.model import Role

    async with rig(tmp_path) as r:
        r.sim.agent("1001", answer_after=0.2)
        r.sim.agent("1002", answer_after=0.2, hangup_after=1.0)  # ends both calls
        await add_member(r)
        call = r.sim.place_call(from_number="5550100", to="200", hangup_after=4.0)

        def agent_up() -> bool:
            return any(leg.role is Role.AGENT and leg.answered for leg in r.tracker.legs.values())

        await until(agent_up)
        await until(lambda: any(c.state.value == "connected" for c in r.tracker.calls.values()))
        [agent] = [leg for leg in r.tracker.legs.values() if leg.role is Role.AGENT]
        res = await r.client.action(
            "BlindTransfer", {"Channel": agent.channel, "Exten": "1002", "Context": "from-agents"}
        )
        assert isinstance(res, AmiResponse) and res.ok, res
        await until(lambda: call.done.is_set())
        res = await r.client.action(
            "Originate",
            {
                "Channel": "PJSIP/1001",
                "Context": "from-agents",
                "Exten": "1002",
                "Priority": "1",
                "CallerID": "Out <5550200>",
                "Async": "true",
            },
        )
        await until(lambda: len(r.tracker.finished) == 2 and not r.tracker.calls)
    transferred, originated = sorted(r.tracker.finished.values(), key=lambda c: c.started)
    roles = {leg.channel.split("-")[0]: leg.role for leg in transferred.legs.values()}
    assert roles == {
        "PJSIP/caller": Role.CALLER,
        "PJSIP/1001": Role.AGENT,
        "PJSIP/1002": Role.TRANSFER_TARGET,
    }
    assert [t.kind for t in transferred.transfers] == ["blind"]
    [seg] = transferred.queues
    assert seg.outcome == "answered" and seg.transfer_kind == "blind" and seg.complete_reason == "transfer"
    first = originated.first_leg()
    assert first is not None and first.role is Role.OUTBOUND and first.direction == "out"
    assert [leg.role for leg in originated.party_legs()][1:] == [Role.AGENT]


async def test_traffic_kpis_agree_with_the_simulated_queue_log(tmp_path: Path) -> None:
    """Random traffic (answered and abandoned calls) over the wire: live and replay KPIs equal the PBX's own
    queue_log (the simulator writes it like app_queue)."""
    from ctiserver.kpi.replay import kpis_by_queue
    from ctiserver.sim.traffic import TrafficConfig, TrafficGenerator
    from tests.kpi.test_replay_kpi import queue_log_kpis

    n = 24
    async with rig(tmp_path) as r:
        for agent in ("1001", "1002"):
            await add_member(r, agent)
        cfg = TrafficConfig(
            rate_per_s=4.0,
            max_calls=n,
            dids={"200": 1.0},
            patience_mean=1.5,
            talk_mean=1.0,
            talk_min=0.3,
            agents=("1001", "1002"),
            ring_delay=(0.1, 0.3),
        )
        async with TrafficGenerator(r.sim, cfg, seed=3) as gen:
            await gen.wait_done()
        await until(lambda: len(r.tracker.finished) == n and not r.tracker.calls)
        await r.service.flush()
        await until(lambda: r.live.queue("support", "15m").offered == n)
        log = tmp_path / "queue_log"
        log.write_text("\n".join(r.sim.engine.queues.log) + "\n")
        live = r.live.queue("support", "15m")
    theirs = queue_log_kpis(log)["support"]
    ours = kpis_by_queue(r.tracker.all_calls())["support"]
    assert theirs["offered"] == n and 0 < theirs["abandoned"] < n  # both outcomes happened
    for k in (ours, live.as_dict()):
        assert (k["offered"], k["answered"], k["abandoned"]) == (
            theirs["offered"],
            theirs["answered"],
            theirs["abandoned"],
        )
        assert abs(k["asa"] - theirs["wait"] / theirs["answered"]) <= 1.0
