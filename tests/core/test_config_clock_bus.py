from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctiserver.clock import ManualClock
from ctiserver.config import ConfigError, load_config
from ctiserver.events import InMemoryBus, new_event


def test_defaults_then_yaml_then_env(tmp_path: Path) -> None:
    cfg_file = tmp_path / "ctiserver.yaml"
    cfg_file.write_text("pbx:\n  ami:\n    host: 10.0.0.1\n    port: 5039\nacd:\n  wrapup: 10\n")
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    cfg = load_config(
        cfg_file,
        environ={"CTISERVER_PBX__AMI__PORT": "6000", "CTISERVER_PBX__AMI__SECRET_FILE": str(secret)},
    )
    assert cfg.pbx.ami.host == "10.0.0.1"
    assert cfg.pbx.ami.port == 6000
    assert cfg.pbx.ami.secret.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(cfg)
    assert cfg.api.host == "127.0.0.1"


def test_bad_config_names_the_field(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("pbx:\n  ami:\n    port: not-a-number\n")
    with pytest.raises(ConfigError, match=r"pbx\.ami\.port"):
        load_config(cfg_file, environ={})


async def test_manual_clock_wakes_sleepers_in_order() -> None:
    clock = ManualClock()
    woke: list[str] = []

    async def sleeper(name: str, t: float) -> None:
        await clock.sleep(t)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("b", 5)), asyncio.create_task(sleeper("a", 2))]
    await asyncio.sleep(0)
    await clock.advance(3)
    assert woke == ["a"]
    await clock.advance(3)
    assert woke == ["a", "b"]
    assert clock.monotonic() == 6
    await asyncio.gather(*tasks)


async def test_bus_sequences_and_filters() -> None:
    bus = InMemoryBus()
    calls = bus.subscribe("call.*")
    everything = bus.subscribe()
    await bus.publish(new_event("call.created", "c1", {}, 1.0))
    await bus.publish(new_event("agent.state", "1001", {"state": "ready"}, 2.0))
    first = await calls.get()
    assert (first.type, first.seq) == ("call.created", 1)
    assert calls.queue.empty()
    assert [ (await everything.get()).seq for _ in range(2)] == [1, 2]
