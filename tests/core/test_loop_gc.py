"""The daemon's event loop choice and its garbage-collector settings."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from ctiserver.loop import loop_factory, run_loop


async def _loop_type() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_auto_takes_uvloop_when_installed_and_asyncio_on_request() -> None:
    pytest.importorskip("uvloop")
    # run in a worker thread: pytest-asyncio owns this thread's loop
    assert _in_thread(lambda: run_loop(_loop_type(), "auto")).startswith("uvloop")
    assert _in_thread(lambda: run_loop(_loop_type(), "asyncio")).startswith("asyncio")
    assert loop_factory("asyncio") is None


def _in_thread(fn: object) -> str:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return str(pool.submit(fn).result())  # type: ignore[arg-type]


def test_settle_freezes_what_is_alive_sets_the_thresholds_and_the_switch_interval() -> None:
    # in a child process: frozen objects are never collected, which a test process must not suffer
    code = (
        "import gc, sys\nfrom ctiserver import runtime\nkeep = [[i] for i in range(1000)]\n"
        "runtime.settle()\nprint(gc.get_freeze_count() > 1000, gc.get_threshold() == runtime.THRESHOLDS,"
        " sys.getswitchinterval() == runtime.SWITCH_INTERVAL)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]
