from __future__ import annotations

import wave
from pathlib import Path

import pytest

from ctiserver.clock import ManualClock
from ctiserver.events import InMemoryBus
from ctiserver.recording.config import Policy, RecordingConfig
from ctiserver.recording.meta import MemoryRecordingStore, RecordingMeta, RecState
from ctiserver.recording.purge import DAY, purge
from ctiserver.recording.service import RecordingRefused, RecordingService
from tests.acd.fake_control import FakeControl


def write_wav(path: str, seconds: float) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))


def exists(path: str) -> bool:
    return Path(path).exists()


def service(tmp_path: Path, **cfg: object) -> tuple[RecordingService, ManualClock, InMemoryBus, FakeControl]:
    clock = ManualClock()
    bus = InMemoryBus()
    control = FakeControl(clock)
    config = RecordingConfig.model_validate({"directory": str(tmp_path), "wait_for_file": 0.5, **cfg})
    return RecordingService(config, control, clock, bus, MemoryRecordingStore()), clock, bus, control


async def test_policy_pause_resume_and_metadata(tmp_path: Path) -> None:
    svc, clock, bus, control = service(
        tmp_path, queues={"secret": {"policy": "never"}, "manual": {"policy": "on_demand"}}
    )
    seen: list[str] = []
    bus.listeners.append(lambda e: seen.append(e.type))
    assert await svc.bridged("c1", "b1", "manual", "a1") is None
    assert await svc.bridged("c1", "b1", "secret", "a1") is None
    with pytest.raises(RecordingRefused):
        await svc.start("c1", "bridge:b1", queue="secret")
    name = await svc.bridged("c1", "b1", "sales", "a1")
    assert name == "c1-1" and control.recordings[name] == "recording"
    t0 = clock.now()
    await clock.advance(3)
    await svc.pause(name, by="agent:a1")
    assert control.recordings[name] == "paused"
    with pytest.raises(RecordingRefused):
        await svc.pause(name, by="agent:a1")
    await clock.advance(4)
    await svc.resume(name, by="supervisor:s1")
    await clock.advance(2)
    write_wav(svc.path_for(name), 5.0)
    meta = await svc.stop(name)
    assert meta.state is RecState.DONE
    assert meta.path == str(tmp_path / "c1-1.wav")
    assert meta.duration == pytest.approx(5.0) and meta.size == 44 + 2 * 8000 * 5
    [p] = meta.pauses
    assert (p.by, p.at, p.resumed_by, p.resumed_at) == ("agent:a1", t0 + 3, "supervisor:s1", t0 + 7)
    assert seen == ["recording.started", "recording.paused", "recording.resumed", "recording.ready"]
    # the finished call's bookkeeping is forgotten (a long-running daemon must not keep one entry per call)
    assert await svc.by_bridge("b1") is None and "c1" not in svc._counter and "c1" not in svc._live_calls
    second = await svc.start("c1", "channel:x", queue="manual", by="api")
    assert second.name == "c1-2"  # still numbered after the first, from the store


async def test_a_calls_own_policy_overrides_its_queues(tmp_path: Path) -> None:
    """A dialer campaign's ``recording`` travels with its calls: it wins over the queue's policy both ways,
    for the recording at the bridge and for an on-demand start through the API."""
    svc, _, _, control = service(tmp_path, queues={"secret": {"policy": "never"}})
    assert await svc.bridged("c1", "b1", "sales", "a1", policy="never") is None
    with pytest.raises(RecordingRefused, match="this call is never recorded"):
        await svc.start("c1", "bridge:b1", queue="sales", policy="never")
    assert await svc.bridged("c2", "b2", "sales", "a1", policy="on_demand") is None
    name = await svc.bridged("c3", "b3", "secret", "a1", policy="always")
    assert name == "c3-1" and control.recordings[name] == "recording"
    assert svc.policy("secret") is Policy.NEVER and svc.policy("secret", "on_demand") is Policy.ON_DEMAND


async def test_a_missing_file_marks_the_recording_failed(tmp_path: Path) -> None:
    svc, clock, _, _ = service(tmp_path)
    name = await svc.bridged("c9", "b9", "sales", "a1")
    assert name is not None
    import asyncio

    stop = asyncio.create_task(svc.stop(name))
    for _ in range(2000):  # the file check runs in a thread: let it finish between clock steps
        if stop.done():
            break
        await asyncio.sleep(0.005)
        await clock.advance(0.1)
    meta = await asyncio.wait_for(stop, 5)
    assert meta.state is RecState.FAILED and meta.size is None


async def test_purge_removes_old_files_only_with_per_queue_retention(tmp_path: Path) -> None:
    store = MemoryRecordingStore()
    cfg = RecordingConfig(directory=str(tmp_path), retention_days=30, queues={"vip": {"retention_days": 365}})
    now = 1_800_000_000.0

    async def add(name: str, queue: str | None, age_days: float, state: RecState = RecState.DONE) -> str:
        path = str(tmp_path / f"{name}.wav")
        write_wav(path, 0.1)
        await store.save(
            RecordingMeta(name, name, queue, None, "bridge:x", path, "wav", now - age_days * DAY, state=state)
        )
        return path

    old = await add("old", "sales", 31)
    young = await add("young", "sales", 29)
    vip = await add("vip-old", "vip", 100)
    vip_ancient = await add("vip-ancient", "vip", 400)
    noq = await add("noq", None, 45)
    live = await add("live", "sales", 40, RecState.RECORDING)
    dry = await purge(store, cfg, now, dry_run=True)
    assert sorted(dry.removed) == ["noq", "old", "vip-ancient"] and exists(old)
    report = await purge(store, cfg, now)
    assert sorted(report.removed) == ["noq", "old", "vip-ancient"]
    assert report.kept_live == ("live",)
    assert not exists(old) and not exists(vip_ancient) and not exists(noq)
    assert exists(young) and exists(vip) and exists(live)
    assert store.rows["old"].state is RecState.PURGED and store.rows["young"].state is RecState.DONE
    again = await purge(store, cfg, now)
    assert again.removed == () and again.missing == ()
