"""Helpers for the IVR tests: build scripts from YAML text and run them on the in-memory fake."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from pathlib import Path

from ctiserver.clock import ManualClock
from ctiserver.control.fake import FakeControl
from ctiserver.ivr.run_state import Services
from ctiserver.ivr.runner import Interpreter
from ctiserver.ivr.script import Script
from ctiserver.ivr.session import CallInfo, IvrSession
from ctiserver.ivr.validate import validate_files, validate_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "ivr_scripts"
CALLER = "+380441234567"


def script_of(text: str, file: str = "t.yaml") -> Script:
    script, diags = validate_text(textwrap.dedent(text), file)
    assert script is not None, "\n".join(map(str, diags))
    return script


def examples() -> dict[str, Script]:
    scripts, diags = validate_files([EXAMPLES])
    assert not [d for d in diags if d.is_error], diags
    return scripts


def clock_at(iso: str) -> ManualClock:
    return ManualClock(start=dt.datetime.fromisoformat(iso).timestamp())


async def run(
    script: Script,
    inputs: Sequence[str] = (),
    *,
    services: Services | None = None,
    clock: ManualClock | None = None,
    caller: str = CALLER,
    channel: str = "chan-1",
) -> tuple[IvrSession, FakeControl]:
    clock = clock or clock_at("2026-11-23T10:00:00+02:00")  # a Monday, office open
    fake = FakeControl(clock)
    fake.add_channel(channel, inputs)
    interp = Interpreter(fake, clock, services or Services())
    session = await interp.run(script, CallInfo(channel, channel, caller, "Test Caller", "100", "en"))
    return session, fake
