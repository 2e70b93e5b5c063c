"""A campaign's ``recording`` setting over the wire (the whole daemon, ACD desk, simulator on real sockets): it
overrides the recording policy of the campaign's queue for the campaign's calls — ``all`` records them in a
queue that is never recorded, ``none`` keeps them out of one that always is — and ``queue`` (the default)
follows the queue. Recordings are read from the bus (``recording.started``) and from the PBX (the simulator's
recording files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctiserver.dialer.model import Contact, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.events import Bus, DomainEvent
from tests.dialer.acd_daemon import AGENTS, QUEUE, daemon
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS as SEATS
from tests.dialer.wire import number, window_around_now

pytestmark = pytest.mark.slow

N = 4



@pytest.mark.parametrize(
    ("campaign_policy", "queue_policy", "recorded"),
    [("all", "never", True), ("none", "always", False), ("queue", "never", False), ("queue", "always", True)],
)
async def test_campaign_recording_overrides_the_queue(
    tmp_path: Path, campaign_policy: str, queue_policy: str, recorded: bool
) -> None:
    campaign = {
        "name": "rec",
        "mode": "progressive",
        "queue": QUEUE,
        "ring_timeout": 15,
        "retry": {"max_attempts": 1},
        "recording": campaign_policy,
        "windows": window_around_now().model_dump(mode="json"),
    }
    queues = {QUEUE: {"policy": queue_policy}}
    async with daemon(tmp_path, campaign, factor=4.0, recording={"queues": queues}) as d:
        for a in AGENTS:
            d.sim.agent(a, answer_after=0.3)
        for i in range(N):
            # 8 s of talk: AMD takes 1.3 s of it, and at factor 4 the rest must outlast (in real time) Stasis,
            # the ACD's offer and the agent's 0.3-s answer on a loaded CI machine (3 s lost one call in 785)
            d.sim.customer(number(i), answer_after=0.5, hangup_after=8.0)
        events: list[DomainEvent] = []
        bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
        bus.listeners.append(events.append)  # type: ignore[attr-defined]
        dialer = d.ctx.require(DialerService)
        await dialer.add_contacts("rec", [Contact(f"k{i}", "rec", number(i), "Europe/Berlin") for i in range(N)])
        await dialer.start("rec")
        runner = dialer.runners["rec"]
        assert await until(lambda: runner.state.value == "completed" and not runner._tasks, 60.0), (
            runner.live_stats()
        )
        attempts = await dialer.store.attempts("rec")
        talked = {a.id for a in attempts if a.outcome is Outcome.HUMAN}
        assert len(talked) == N, [(a.number, a.outcome) for a in attempts]
        if recorded:
            assert await until(
                lambda: talked <= {e.data["call_id"] for e in events if e.type == "recording.ready"}, 20.0
            )
        else:
            await asyncio.sleep(1.0)  # a recording would have started with the bridge, long before
        started = {e.data["call_id"] for e in events if e.type == "recording.started"}
        files = {p.name.rsplit("-", 1)[0] for p in (tmp_path / "rec").glob("*") if p.is_file()}
    assert (started == talked) if recorded else not (started & talked)
    assert (talked <= files) if recorded else not (files & talked)


@pytest.mark.parametrize("campaign_policy", ["all", "none"])
async def test_ami_desk_records_with_mixmonitor(tmp_path: Path, campaign_policy: str) -> None:
    """AMI-only deployments: the recording service starts ``MixMonitor`` on the customer's channel before the
    desk redirects it to the agent (file ``<attempt>-1.<format>``, as the recording service names them), with
    the same metadata and events as a bridge recording: ``recording.started``, then ``recording.ready`` with the
    file's facts once the customer hung up."""
    from ctiserver.dialer.model import CampaignSettings, ContactStatus, PacingMode, RetryPolicy
    from ctiserver.pbx.ami.messages import AmiEvent
    from tests.dialer.wire import Callee, wire

    callees = {number(i): Callee(reachable=True, answers=True, machine=False, ring=0.5, talk=3.0) for i in range(N)}
    settings = CampaignSettings(
        name="mix",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        retry=RetryPolicy(max_attempts=1),
        recording=campaign_policy,
    )
    contacts = [Contact(f"c{i}", "mix", number(i), "Europe/Berlin") for i in range(N)]
    rec_dir = tmp_path / "rec"
    events: list[AmiEvent] = []
    recording = {"directory": str(rec_dir), "default_policy": "never"}
    async with wire(settings, contacts, callees, rendered=True, recording=recording) as w:
        published: list[DomainEvent] = []
        w.bus.listeners.append(published.append)  # type: ignore[attr-defined]
        w.ami.on_event("MixMonitorStart", events.append)
        await w.runner.start()
        done = (ContactStatus.PENDING, ContactStatus.DIALLING)
        assert await until(
            lambda: w.runner.counters["dialled"] >= N
            and all(c.status not in done for c in w.store._contacts.values())
            and not w.runner._tasks,
            60.0,
        ), w.runner.live_stats()
        attempts = await w.store.attempts("mix")
        talked = {a.id for a in attempts if a.outcome is Outcome.HUMAN}
        if campaign_policy == "all":
            assert await until(lambda: len([e for e in published if e.type == "recording.ready"]) >= N, 20.0)
        else:
            await asyncio.sleep(0.5)
        stored = dict(w.sim.engine.stored)  # recordings the PBX finished: name → (format, path)
    assert len(talked) == N
    monitored = {e.get("Uniqueid") for e in events}
    ready = {e.subject: e.data for e in published if e.type == "recording.ready"}
    if campaign_policy == "all":
        assert monitored == talked  # on the attempt's own channel (the Local ;1 that was redirected)
        assert {Path(path) for _, path in stored.values()} == {rec_dir / f"{a}-1.wav" for a in talked}
        assert set(ready) == talked == {e.subject for e in published if e.type == "recording.started"}
        for call_id, meta in ready.items():
            assert meta["name"] == f"{call_id}-1" and meta["state"] == "done", meta
            assert meta["target"].startswith("mixmonitor:Local/") and meta["agent"] in SEATS
            assert meta["size"] > 44 and 1.0 < meta["duration"] < 3.0, meta  # 3 s of talk less AMD: a real WAV
    else:
        assert not monitored and not stored and not ready


async def test_ami_desk_recording_on_demand_paused_for_a_card_number(tmp_path: Path) -> None:
    """A campaign recorded on demand: the agent starts the recording by call (attempt) id, as
    ``POST /api/calls/{id}/recording`` does (``PbxRecordings`` as the API component wires it, with the AMI desk),
    then pauses and resumes it for a card number: ``MixMonitorMute`` on the customer's channel, both
    directions; the pause is in the recording's metadata, which is ready once the customer hung up."""
    from ctiserver.api.component import _pbx_recordings
    from ctiserver.dialer.model import CampaignSettings, PacingMode, RetryPolicy
    from ctiserver.pbx.ami.messages import AmiEvent
    from tests.dialer.wire import Callee, wire

    callees = {number(0): Callee(reachable=True, answers=True, machine=False, ring=0.5, talk=6.0)}
    settings = CampaignSettings(
        name="mix",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        retry=RetryPolicy(max_attempts=1),
        recording="on_demand",
    )
    recording = {"directory": str(tmp_path / "rec"), "default_policy": "never"}
    async with wire(settings, [Contact("c0", "mix", number(0), "Europe/Berlin")], callees, recording=recording) as w:
        published: list[DomainEvent] = []
        w.bus.listeners.append(published.append)  # type: ignore[attr-defined]
        mutes: list[AmiEvent] = []
        w.ami.on_event("MixMonitorMute", mutes.append)
        recordings = _pbx_recordings(w.ctx, None)
        await w.runner.start()
        assert await until(lambda: any(e.type == "agent.answered" for e in published), 30.0)
        call_id = next(e.subject for e in published if e.type == "agent.answered")
        await asyncio.sleep(0.3)
        assert not any(e.type == "recording.started" for e in published)  # on demand: nothing by itself
        started = await recordings.action(call_id, "start", "agent")
        assert started["state"] == "recording" and started["agent"] in SEATS
        assert (await recordings.action(call_id, "pause", "agent"))["state"] == "paused"
        await w.ctx.clock.sleep(1.0)
        assert (await recordings.action(call_id, "resume", "agent"))["state"] == "recording"
        assert await until(lambda: any(e.type == "recording.ready" for e in published), 30.0)
        assert await until(lambda: len(mutes) == 2, 5.0)
    assert [(m.get("State"), m.get("Direction")) for m in mutes] == [("1", "both"), ("0", "both")]
    ready = next(e.data for e in published if e.type == "recording.ready")
    assert ready["name"] == started["name"] == f"{call_id}-1" and ready["state"] == "done", ready
    pause = ready["pauses"][0]
    assert len(ready["pauses"]) == 1 and pause["by"] == "agent" and pause["resumed_by"] == "agent"
    assert 0.9 <= pause["resumed_at"] - pause["at"] < 2.0
