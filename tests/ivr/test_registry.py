"""Versioned registry: put/validate/list, hot reload from disk, invalid changes refused, live calls keep their
version."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from ctiserver.clock import ManualClock
from ctiserver.control.fake import FakeControl
from ctiserver.ivr.diagnostics import ScriptInvalid
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.run_state import Services
from ctiserver.ivr.runner import Interpreter
from ctiserver.ivr.session import CallInfo, IvrEnd
from tests.ivr.util import CALLER, EXAMPLES

V1 = """script: hot
dids: ["300"]
nodes:
  m:
    type: menu
    prompt: [menu-v1]
    options: {1: q}
  q: {type: queue, queue: old-queue}
"""
V2 = V1.replace("menu-v1", "menu-v2").replace("old-queue", "new-queue")
BROKEN = V1.replace("options: {1: q}", "options: {1: q, 2: nowhere}")


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))  # distinct mtimes on coarse filesystems


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for f in EXAMPLES.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    write(tmp_path / "hot.yaml", V1, 1)
    return tmp_path


async def test_initial_load_and_queries(folder: Path) -> None:
    reg = ScriptRegistry(folder, ManualClock())
    report = await reg.reload()
    assert set(report.loaded) == {"main-en", "main-ru", "account", "csat", "optout", "hot"}
    main_en = reg.for_did("100")
    assert main_en is not None and main_en.name == "main-en"
    assert reg.for_did("999") is None
    infos = {i.name: i for i in reg.list_scripts()}
    assert infos["hot"].version == reg.get("hot").version and infos["hot"].dids == ("300",)  # type: ignore[union-attr]
    assert (await reg.reload()).loaded == ()  # nothing changed


async def test_put_valid_and_invalid(folder: Path) -> None:
    reg = ScriptRegistry(folder, ManualClock())
    await reg.reload()
    v1 = reg.get("hot")
    assert v1 is not None
    v2 = await reg.put("hot", V2)
    assert reg.get("hot") is v2 and v2.version != v1.version
    assert (folder / "hot.yaml").read_text() == V2
    assert reg.history["hot"] == [v1.version, v2.version]
    with pytest.raises(ScriptInvalid) as err:
        await reg.put("hot", BROKEN)
    assert "hot.yaml:7:24: nodes.m: unknown node 'nowhere'" in str(err.value)
    assert reg.get("hot") is v2 and (folder / "hot.yaml").read_text() == V2
    with pytest.raises(ScriptInvalid, match="DID '100' is already bound to script 'main-en'"):
        await reg.put("other", V1.replace("hot", "other").replace('"300"', '"100"'))
    assert not (folder / "other.yaml").exists()


async def test_validate_does_not_change_anything(folder: Path) -> None:
    reg = ScriptRegistry(folder, ManualClock())
    await reg.reload()
    script, diags = reg.validate(V2, "hot.yaml")
    assert script is not None and diags == []
    assert reg.get("hot").version != script.version  # type: ignore[union-attr]


async def test_disk_change_invalid_is_refused_previous_keeps_serving(folder: Path) -> None:
    reg = ScriptRegistry(folder, ManualClock())
    await reg.reload()
    v1 = reg.get("hot")
    write(folder / "hot.yaml", BROKEN, 2)
    report = await reg.reload()
    assert report.refused == (str(folder / "hot.yaml"),) and report.loaded == ()
    assert reg.get("hot") is v1
    assert [str(d).split(": ", 1)[0].rsplit(":", 2)[1:] for d in reg.errors[str(folder / "hot.yaml")]] == [
        ["7", "24"]
    ]
    write(folder / "hot.yaml", V2, 3)
    assert (await reg.reload()).loaded == ("hot",)
    assert reg.errors == {}
    (folder / "hot.yaml").unlink()
    assert (await reg.reload()).removed == ("hot",) and reg.get("hot") is None


async def test_watch_polls_with_the_injected_clock(folder: Path) -> None:
    clock = ManualClock()
    reg = ScriptRegistry(folder, clock)
    await reg.reload()
    task = asyncio.create_task(reg.watch(interval=5))
    try:
        write(folder / "hot.yaml", V2, 4)
        await clock.advance(4)
        assert "menu-v1" in reg.get("hot").text  # type: ignore[union-attr]
        for _ in range(200):  # the reload reads files in a thread: give it real time, not a fixed sleep
            await clock.advance(5)
            if "menu-v2" in reg.get("hot").text:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.01)
        assert "menu-v2" in reg.get("hot").text  # type: ignore[union-attr]
    finally:
        task.cancel()


async def test_hot_reload_during_a_live_call(folder: Path) -> None:
    clock = ManualClock()
    reg = ScriptRegistry(folder, clock)
    await reg.reload()
    fake = FakeControl(clock)
    interp = Interpreter(fake, clock, Services(scripts=reg.get))
    fake.add_channel("old", live=True)
    script = reg.for_did("300")
    assert script is not None
    old_call = asyncio.create_task(interp.run(script, CallInfo("old", "old", CALLER, did="300")))
    await asyncio.wait_for(fake.channels["old"].listening.wait(), 5)  # the first caller is in the menu
    write(folder / "hot.yaml", V2, 5)
    assert (await reg.reload()).loaded == ("hot",)
    fake.add_channel("new", ["1"])
    new_script = reg.for_did("300")
    assert new_script is not None
    new = await interp.run(new_script, CallInfo("new", "new", CALLER, did="300"))
    fake.press("old", "1")
    old = await asyncio.wait_for(old_call, 5)
    assert old.version == script.version and {s.version for s in old.steps} == {script.version}
    assert (old.end, old.target) == (IvrEnd.QUEUE, "old-queue") and "sound:menu-v1" in fake.played("old")
    assert new.version == new_script.version != old.version
    assert (new.end, new.target) == (IvrEnd.QUEUE, "new-queue") and "sound:menu-v2" in fake.played("new")


async def test_sub_script_loaded_in_the_same_scan_in_any_order(tmp_path: Path) -> None:
    write(
        tmp_path / "a-main.yaml",
        'script: a-main\ndids: ["1"]\nnodes:\n  s: {type: sub, script: z-sub, next: e}\n'
        "  e: {type: hangup}\n",
        1,
    )
    write(tmp_path / "z-sub.yaml", "script: z-sub\nnodes:\n  r: {type: return}\n", 1)
    reg = ScriptRegistry(tmp_path, ManualClock())
    report = await reg.reload()
    assert set(report.loaded) == {"a-main", "z-sub"} and report.refused == ()
