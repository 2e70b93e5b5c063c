"""Harness for the dialer over the wire: the simulator (AMI on a real socket), a seeded callee model, and the
runner with ``AmiLines`` + ``AmiDesk``. The simulator is observed from its side (every channel it creates),
so the assertions check what the PBX really did, not what the dialer believes."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ctiserver.cli.dialplan import render
from ctiserver.config import AmiConfig, Config
from ctiserver.dialer.ami_desk import AmiDesk
from ctiserver.dialer.ami_lines import AmiLines, AmiLinesConfig
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.store import MemoryDialerStore
from ctiserver.dialer.windows import WEEKDAYS, CallingWindows
from ctiserver.events import InMemoryBus
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.sim import ami_actions
from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.model import ChanState
from ctiserver.sim.simulator import Simulator
from tests.sim.scaled_clock import ScaledClock

AGENTS = [str(n) for n in range(1001, 1011)]


def number(i: int) -> str:
    return f"+4930{1000000 + i}"


@dataclass(frozen=True)
class Callee:
    reachable: bool
    answers: bool
    machine: bool
    ring: float
    talk: float


def callee_model(
    n: int, seed: int = 7, p_answer: float = 0.5, p_machine: float = 0.2, p_unreachable: float = 0.25
) -> dict[str, Callee]:
    """Answer probability, ring time, 20 % answering machines, talk time; of the others some are unreachable
    (the originate fails at once) and the rest ring until the ring timeout."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        answers = rng.random() < p_answer
        out[number(i)] = Callee(
            reachable=answers or rng.random() > p_unreachable / (1 - p_answer),
            answers=answers,
            machine=answers and rng.random() < p_machine,
            ring=rng.uniform(1.0, 6.0),
            talk=rng.uniform(4.0, 8.0),
        )
    return out


def window_around_now(tz: str = "Europe/Berlin", hours: int = 2) -> CallingWindows:
    """Open every day for ``hours`` either side of the current time in ``tz`` (clamped to the day)."""
    local = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo(tz))
    minutes = local.hour * 60 + local.minute
    lo, hi = max(0, minutes - hours * 60), min(23 * 60 + 59, minutes + hours * 60)
    text = f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"
    return CallingWindows(days={d: (text,) for d in WEEKDAYS})


def rendered_dialer_plan(stasis: bool = False) -> dict[str, dict[str, tuple[Step, ...]]]:
    """The dialer's contexts exactly as ``ctiserver dialplan render`` writes them for Asterisk
    (ctiserver-dialer, ctiserver-amd with ``AMD()``, ctiserver-dialer-abandon), parsed into the simulator's
    dialplan. Adaptations: there is no SIP trunk, so ``Dial`` reaches ``PJSIP/<number>`` instead of
    ``PJSIP/<number>@trunk``; and unless ``stasis`` (a harness with the daemon's ARI app), ``Stasis`` (which
    holds the answered call for the dialer on a real PBX) becomes a ``Wait``."""
    text = render(Config())
    plan: dict[str, dict[str, list[Step]]] = {}
    context, exten = "", ""
    wanted = ("ctiserver-dialer", "ctiserver-amd", "ctiserver-dialer-abandon")
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        head = re.fullmatch(r"\[([^\]]+)\]", line)
        if head:
            context = head.group(1)
            continue
        step = re.fullmatch(r"(?:exten => ([^,]+)|same => ),?(?:1|n),(\w+)\((.*)\)", line)
        if context not in wanted or not step:
            continue
        exten = step.group(1) or exten
        app, data = step.group(2), step.group(3)
        if app == "Dial":
            data = re.sub(r"@[\w-]+,", ",", data)
        if app == "Stasis" and not stasis:
            app, data = "Wait", "600"
        plan.setdefault(context, {}).setdefault(exten, []).append(Step(app=app, data=data))
    return {c: {e: tuple(steps) for e, steps in extens.items()} for c, extens in plan.items()}


def sim_config(rendered: bool = False) -> SimConfig:
    if rendered:
        base = SimConfig()
        return base.model_copy(update={"dialplan": {**base.dialplan, **rendered_dialer_plan()}})
    return _standin_config()


def _standin_config() -> SimConfig:
    base = SimConfig()
    plan = dict(base.dialplan)
    plan["ctiserver-amd"] = {"s": (Step(app="Wait", data="600"), Step(app="Hangup"))}
    plan["ctiserver-dialer-abandon"] = {"s": (Step(app="Playback", data="beep"), Step(app="Hangup"))}
    return base.model_copy(update={"dialplan": plan})


@dataclass
class Wire:
    sim: Simulator
    ami: AmiClient
    lines: AmiLines
    desk: AmiDesk
    runner: CampaignRunner
    store: MemoryDialerStore
    bus: InMemoryBus
    callees: dict[str, Callee]
    originated: list[tuple[float, str, str]] = field(default_factory=list)  # (time, number, channel id)
    events: list[Any] = field(default_factory=list)

    def originates_of(self, num: str) -> list[tuple[float, str, str]]:
        return [o for o in self.originated if o[1] == num]


async def _amd_standin(sim: Simulator, callees: dict[str, Callee]) -> None:
    """What the AMD() dialplan does on a real Asterisk: set CTI_AMD_STATUS on the answered channel (a VarSet
    on AMI). The verdict comes from the callee model."""
    done: set[str] = set()
    while True:
        for ch in list(sim.engine.channels.values()):
            num = ch.endpoint.partition("/")[2]
            c = callees.get(num)
            if c is None or ch.id in done or ch.state != ChanState.UP or ch.hung_up:
                continue
            done.add(ch.id)
            sim.engine.set_var(ch, "CTI_AMD_CAUSE", "TOOLONG-5000" if c.machine else "HUMAN-500-500")
            sim.engine.set_var(ch, "CTI_AMD_STATUS", "MACHINE" if c.machine else "HUMAN")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def wire(
    settings: CampaignSettings,
    contacts: list[Contact],
    callees: dict[str, Callee],
    wrapup: float = 1.0,
    factor: float = 4.0,
    rendered: bool = False,
    ami_filters: bool = True,
) -> AsyncIterator[Wire]:
    """``rendered=False``: originate ``PJSIP/<number>`` into a stand-in AMD context, the verdict set by the
    callee model. ``rendered=True``: originate ``Local/<number>@ctiserver-dialer/n`` into the rendered dialplan
    where the simulator's ``AMD()`` decides (machines declared per callee). ``ami_filters=False``: the AMI link
    gets every event (a test that reads what the daemon filters out, e.g. Newexten)."""
    clock = ScaledClock(factor, start=None)  # calling windows follow the real wall clock
    async with Simulator(sim_config(rendered), clock=clock) as sim:
        for a in AGENTS:
            sim.agent(a, answer_after=0.3)
        for num, c in callees.items():
            sim.agent(
                num,
                answer_after=c.ring if c.answers else None,
                registered=c.reachable,
                hangup_after=c.talk if not c.machine else 20.0,
            )
        originated: list[tuple[float, str, str]] = []
        real_dial_out = ami_actions.dial_out

        def spy(engine: Any, endpoint: str, **kw: Any) -> Any:
            """Every Originate the PBX received for a callee, placed or refused (unreachable)."""
            num = endpoint.partition("/")[2]
            if num in callees:
                originated.append((clock.now(), num, kw.get("channel_id") or ""))
            return real_dial_out(engine, endpoint, **kw)

        ami_actions.dial_out = spy  # type: ignore[assignment]
        if rendered:
            for num, c in callees.items():
                if c.machine:
                    sim.engine.dialplan.amd.set_answerer(num, "machine")
        amd = asyncio.create_task(asyncio.sleep(0) if rendered else _amd_standin(sim, callees))
        cfg = AmiConfig(port=sim.ami_port, reconnect_min=0.4, reconnect_max=1.2, action_timeout=40.0)
        if not ami_filters:
            cfg = cfg.model_copy(update={"event_filters": ()})
        ami = AmiClient(cfg, clock)
        async with ami:
            store, bus = MemoryDialerStore(), InMemoryBus()
            await store.add_contacts(contacts)
            channel = "Local/{e164}@ctiserver-dialer/n" if rendered else "PJSIP/{e164}"
            lines = AmiLines(ami, clock, AmiLinesConfig(channel=channel, amd_wait=3.0))
            desk = AmiDesk(ami, clock, bus, list(AGENTS), wrapup=wrapup, names=lines.names)
            runner = CampaignRunner(settings, store, lines, desk, bus, clock)
            w = Wire(sim, ami, lines, desk, runner, store, bus, callees, originated)
            try:
                yield w
            finally:
                await runner.close()
                await desk.close()
                amd.cancel()
                ami_actions.dial_out = real_dial_out  # type: ignore[assignment]
