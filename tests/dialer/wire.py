"""Harness for the dialer over the wire: the simulator (AMI and ARI on real sockets), a seeded callee model, and
the daemon's own components for an AMI-desk deployment — its AMI link, its ARI application on the events
WebSocket with the Stasis router and the dialer's ``dialer`` handler, ``AmiLines`` + ``AmiDesk`` and the
campaign runner. The answered call enters ``Stasis(ctiserver,dialer,…)`` as on Asterisk. The simulator is
observed from its side (every channel it creates), so the assertions check what the PBX really did, not what
the dialer believes."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctiserver.app import AppContext, running
from ctiserver.cli.dialplan import render
from ctiserver.config import Config
from ctiserver.control.router import Incoming, StasisRouter
from ctiserver.dialer.ami_desk import AmiDesk
from ctiserver.dialer.ami_lines import AmiLines
from ctiserver.dialer.model import CampaignSettings, Contact, PacingMode, RetryPolicy
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import MemoryDialerStore
from ctiserver.dialer.windows import WEEKDAYS, CallingWindows
from ctiserver.events import InMemoryBus
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.extensions_conf import Priority, parse
from ctiserver.sim import ami_actions, ami_originate
from ctiserver.sim.ami_server import AmiSession
from ctiserver.sim.config import SimConfig, Step
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
    busy: bool = False  # the carrier answers 486 Busy Here (only behind the trunk: ``rendered=True``)
    keys: tuple[tuple[float, str], ...] = ()  # keys pressed (s after the answer, digit; behind the trunk only)


def at_the_carrier(sim: Simulator, callees: dict[str, Callee]) -> None:
    """The callees as parties behind the simulator's trunk (``Dial(PJSIP/<number>@trunk)``): an unreachable
    number gets 404 Not Found, a busy one 486 Busy Here; machines are told to the simulator's ``AMD()``."""
    for num, c in callees.items():
        reject = 404 if not c.reachable else 486 if c.busy else None
        talk = c.talk if not c.machine else 20.0
        answer = c.ring if c.answers else None
        sim.customer(num, answer_after=answer, hangup_after=talk, reject=reject, dtmf=c.keys)
        if c.machine:
            sim.engine.dialplan.amd.set_answerer(num, "machine")


def callee_model(
    n: int,
    seed: int = 7,
    p_answer: float = 0.5,
    p_machine: float = 0.2,
    p_unreachable: float = 0.25,
    p_busy: float = 0.0,
) -> dict[str, Callee]:
    """Answer probability, ring time, 20 % answering machines, talk time; of the others some are unreachable
    (the originate fails at once; behind the trunk: 404), ``p_busy`` of the reachable ones busy (486, behind
    the trunk), and the rest ring until the ring timeout."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        answers = rng.random() < p_answer
        reachable = answers or rng.random() > p_unreachable / (1 - p_answer)
        out[number(i)] = Callee(
            reachable=reachable,
            answers=answers,
            machine=answers and rng.random() < p_machine,
            ring=rng.uniform(1.0, 6.0),
            talk=rng.uniform(4.0, 8.0),
            busy=p_busy > 0 and reachable and not answers and rng.random() < p_busy / (1 - p_answer),
        )
    return out


def one_live_answer(campaign: str) -> tuple[dict[str, Callee], Contact, CampaignSettings]:
    """One contact who answers in person after a second's ring and talks eight seconds, in a progressive
    campaign (one attempt) open now: the callee model, the contact, the campaign."""
    callees = {number(0): Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=8.0)}
    contact = Contact("c0", campaign, number(0), "Europe/Berlin")
    settings = CampaignSettings(
        name=campaign,
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=20.0,
        retry=RetryPolicy(max_attempts=1),
    )
    return callees, contact, settings


def window_around_now(tz: str = "Europe/Berlin", hours: int = 2) -> CallingWindows:
    """Open every day for ``hours`` either side of the current time in ``tz`` (clamped to the day)."""
    local = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo(tz))
    minutes = local.hour * 60 + local.minute
    # clamped to the day: to "24:00" (midnight), not "23:59", whose end excludes 23:59:xx — a run in Berlin's last
    # minute of the day dialled nothing and waited out its timeout (CI, session 15)
    lo, hi = max(0, minutes - hours * 60), min(24 * 60, minutes + hours * 60)
    text = f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"
    return CallingWindows(days={d: (text,) for d in WEEKDAYS})


def rendered_dialer_plan(
    stasis: bool = True, dialplan: dict[str, Any] | None = None
) -> dict[str, dict[str, tuple[Step, ...]]]:
    """The dialer's contexts exactly as ``ctiserver dialplan render`` writes them for Asterisk
    (ctiserver-dialer, ctiserver-amd with ``AMD()`` and ``Stasis(${CTI_APP},dialer,…)``,
    ctiserver-dialer-abandon; ctiserver-outbound, where call-backs and transfers to numbers go), parsed into the
    simulator's dialplan; ``Dial(PJSIP/<number>@trunk)`` reaches the parties behind the simulator's trunk
    (``at_the_carrier``). ``stasis=False`` (a harness without the daemon's ARI app) turns ``Stasis`` into a
    ``Wait`` that holds the answered call as Stasis would. ``dialplan``: the daemon's ``dialplan:`` section."""
    conf = parse(render(Config.model_validate({"dialplan": dialplan or {}})))
    wanted = ("ctiserver-dialer", "ctiserver-amd", "ctiserver-dialer-abandon", "ctiserver-outbound")

    def step(p: Priority) -> Step:
        if p.app == "Stasis" and not stasis:
            return Step(app="Wait", data="600")
        return Step(app=p.app, data=p.data, label=p.label)

    return {c: {e: tuple(step(p) for p in conf.priorities(c, e)) for e in conf.contexts[c]} for c in wanted}


def rendered_agent_steps(ring: int) -> tuple[Step, ...]:
    """The agents' extension (``from-agents``, ``_10XX``) as ``ctiserver dialplan render`` writes it, its phone
    rung ``ring`` s: ``Dial``, then a dialler's customer whose agent did not answer held for the message."""
    conf = parse(render(Config.model_validate({"dialplan": {"agent_ring_timeout": 30}})))
    steps = [Step(app=p.app, data=p.data, label=p.label) for p in conf.priorities("from-agents", "_10XX")]
    return tuple(s.model_copy(update={"data": f"PJSIP/${{EXTEN}},{ring}"}) if s.app == "Dial" else s for s in steps)


def sim_config(stasis: bool = True, dialplan: dict[str, Any] | None = None) -> SimConfig:
    """The simulator's defaults plus the rendered dialer contexts. (``wire(rendered=False)`` originates the
    callee's ``PJSIP/<number>`` straight into ``ctiserver-amd``, no Local pair, no ``Dial``, and replaces
    ``AMD()`` by the callee model's stand-in.)"""
    base = SimConfig()
    agents = dict(base.dialplan["from-agents"])
    agents["1010"] = agents["_100X"]  # the tenth agent's phone (the traces' plan has 1001-1009 only)
    plan = {**base.dialplan, "from-agents": agents, **rendered_dialer_plan(stasis, dialplan)}
    return base.model_copy(update={"dialplan": plan})


@dataclass
class Wire:
    sim: Simulator
    ctx: AppContext  # the daemon's components: events, pbx (AMI + ARI), control (Stasis router), dialer
    ami: AmiClient
    lines: AmiLines
    desk: AmiDesk
    runner: CampaignRunner
    store: MemoryDialerStore
    bus: InMemoryBus
    callees: dict[str, Callee]
    originated: list[tuple[float, str, str]] = field(default_factory=list)  # (time, number, channel id)
    events: list[Any] = field(default_factory=list)
    ari: list[dict[str, Any]] = field(default_factory=list)  # StasisStart/StasisEnd the daemon's app received
    routed: list[tuple[Incoming, bool]] = field(default_factory=list)  # router dispatches (a handler started?)

    def originates_of(self, num: str) -> list[tuple[float, str, str]]:
        return [o for o in self.originated if o[1] == num]

    def stasis_of(self, channel_id: str) -> list[dict[str, Any]]:
        return [e for e in self.ari if e["channel"]["id"] == channel_id]


def _amd_standin(engine: Any, callees: dict[str, Callee]) -> Any:
    """``AMD()`` for ``rendered=False``: the verdict of the callee model at once (no analysis time), set as
    app_amd does — ``AMDSTATUS`` then ``AMDCAUSE`` on the channel running it (the callee's, originated)."""

    async def amd(ch: Any, data: str) -> None:
        c = callees.get(ch.endpoint.partition("/")[2])
        machine = c is not None and c.machine
        engine.set_var(ch, "AMDSTATUS", "MACHINE" if machine else "HUMAN")
        engine.set_var(ch, "AMDCAUSE", "TOOLONG-5000" if machine else "HUMAN-500-500")

    return amd


DAEMON = (  # the daemon's own components, in ``ctiserver.app.COMPONENTS`` order, without the database
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.control.component",
    "ctiserver.recording.component",
    "ctiserver.dialer.component",
)
TRACKED = (*DAEMON[:3], "ctiserver.calls.component", "ctiserver.kpi.component", *DAEMON[3:])  # + tracker, KPIs


def daemon_config(
    sim: Simulator,
    channel: str,
    wrapup: float,
    ami_filters: bool,
    dialplan: dict[str, Any] | None = None,
    recording: dict[str, Any] | None = None,
    amd_wait: float = 3.0,
) -> Config:
    """The AMI desk deployment: ``dialer.desk: ami`` with the ten agents, AMI and ARI pointing at the simulator."""
    ami: dict[str, Any] = {"port": sim.ami_port, "reconnect_min": 0.4, "reconnect_max": 1.2, "action_timeout": 40.0}
    if not ami_filters:
        ami["event_filters"] = []
    return Config.model_validate(
        {
            "pbx": {"ami": ami, "ari": {"url": sim.ari_url, "reconnect_min": 0.4, "reconnect_max": 1.2}},
            "dialer": {
                "desk": "ami",
                "agents": AGENTS,
                "wrapup": wrapup,
                "lines": {"channel": channel, "amd_wait": amd_wait},
            },
            "recording": recording or {"default_policy": "never"},
            "dialplan": dialplan or {},
        }
    )


@asynccontextmanager
async def wire(
    settings: CampaignSettings,
    contacts: list[Contact],
    callees: dict[str, Callee],
    wrapup: float = 1.0,
    factor: float = 4.0,
    rendered: bool = False,
    ami_filters: bool = True,
    stasis: bool = True,
    dialplan: dict[str, Any] | None = None,
    recording: dict[str, Any] | None = None,
    amd_wait: float | None = None,
    tracked: bool = False,
) -> AsyncIterator[Wire]:
    """The daemon (``DAEMON``: its AMI link, its ARI application on the events WebSocket, the Stasis router with
    the dialer's handler, ``AmiLines`` + ``AmiDesk``) against the simulator, the campaign created in the
    ``DialerService``. ``rendered=False``: originate ``PJSIP/<number>`` into ``ctiserver-amd``, the verdict given
    by the callee model. ``rendered=True``: originate ``Local/<number>@ctiserver-dialer/n`` into the rendered
    dialplan where the simulator's ``AMD()`` decides (machines declared per callee). Either way the answered
    call enters ``Stasis(ctiserver,dialer,…)`` (``stasis=False``: a ``Wait`` instead). ``ami_filters=False``: the
    daemon's AMI link gets every event (a test that reads what the daemon filters out, e.g. Newexten).
    ``dialplan``: the ``dialplan:`` section both the simulator's rendered contexts and the daemon follow;
    ``recording``: the daemon's ``recording:`` section (default: nothing recorded). ``amd_wait`` (simulated s):
    the daemon's wait for AMD()'s verdict, a safety net; by default 3 real seconds. It runs on the scaled clock
    (session 28): a bare 3 s left the verdict's AMI event ~0.4 real s under CI load, and a machine went to an
    agent as NOTSURE. ``tracked``: the call tracker and the live KPIs run too (``TRACKED``)."""
    clock = ScaledClock(factor, start=None)  # calling windows follow the real wall clock
    watchdog = asyncio.create_task(_dump_tasks_after(100.0), name="test:wire-watchdog")
    try:
        wait = 3.0 * factor if amd_wait is None else amd_wait
        components = TRACKED if tracked else DAEMON
        options = (rendered, ami_filters, stasis, dialplan, recording, wait, components)
        async with _wired(settings, contacts, callees, wrapup, clock, *options) as w:
            yield w
    finally:
        watchdog.cancel()


async def _dump_tasks_after(seconds: float) -> None:
    """A wire test still running near pytest's 120-s timeout prints where every task waits (the timeout's own
    report shows only the idle event loop): for the rare hang of these tests, the next time it happens."""
    await asyncio.sleep(seconds)
    print(f"wire test still running after {seconds:.0f} s; the tasks:", flush=True)
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}", flush=True)
        task.print_stack(limit=12, file=sys.stdout)


@asynccontextmanager
async def _wired(
    settings: CampaignSettings,
    contacts: list[Contact],
    callees: dict[str, Callee],
    wrapup: float,
    clock: ScaledClock,
    rendered: bool,
    ami_filters: bool,
    stasis: bool,
    dialplan: dict[str, Any] | None,
    recording: dict[str, Any] | None,
    amd_wait: float,
    components: tuple[str, ...],
) -> AsyncIterator[Wire]:
    async with Simulator(sim_config(stasis, dialplan), clock=clock) as sim:
        for a in AGENTS:
            sim.agent(a, answer_after=0.3)
        if rendered:
            at_the_carrier(sim, callees)
        for num, c in callees.items() if not rendered else ():
            sim.agent(
                num,
                answer_after=c.ring if c.answers else None,
                registered=c.reachable,
                hangup_after=c.talk if not c.machine else 20.0,
            )
        originated: list[tuple[float, str, str]] = []
        real_dial_out = ami_originate.dial_out

        def spy(engine: Any, endpoint: str, **kw: Any) -> Any:
            """Every Originate the PBX received for a callee, placed or refused (unreachable)."""
            num = endpoint.partition("/")[2].partition("@")[0]
            if num in callees:
                originated.append((clock.now(), num, kw.get("channel_id") or ""))
            return real_dial_out(engine, endpoint, **kw)

        ami_originate.dial_out = spy  # type: ignore[assignment]
        if not rendered:
            sim.engine.dialplan.apps["amd"] = _amd_standin(sim.engine, callees)
        channel = "Local/{e164}@ctiserver-dialer/n" if rendered else "PJSIP/{e164}"
        try:
            config = daemon_config(sim, channel, wrapup, ami_filters, dialplan, recording, amd_wait)
            async with running(config, clock=clock, components=components) as ctx:
                service = ctx.require(DialerService)
                assert isinstance(service.store, MemoryDialerStore) and isinstance(service.desk, AmiDesk)
                assert isinstance(service.lines, AmiLines)
                await service.store.add_contacts(contacts)
                runner = await service.create(settings)
                bus = ctx.require(InMemoryBus)
                lines, desk, store = service.lines, service.desk, service.store
                w = Wire(sim, ctx, ctx.require(AmiClient), lines, desk, runner, store, bus, callees, originated)
                _observe_stasis(w)
                yield w
        finally:
            ami_originate.dial_out = real_dial_out  # type: ignore[assignment]


def cut_ami_at(w: Wire, app: str, seconds: float) -> list[str]:
    """Cut the daemon's AMI link for ``seconds`` (``Simulator.ami_outage``) as the dialplan application ``app``
    (lower case: ``amd``, ``read``) first starts in the simulator — at that simulated moment, not when the daemon's
    state shows it. Returns the list that gets the channel id of that first start."""
    apps, cut = w.sim.engine.dialplan.apps, []
    run = apps[app]

    async def cut_then_run(ch: Any, data: str) -> None:
        if not cut:
            cut.append(ch.id)
            w.sim.ami_outage(seconds)
        await run(ch, data)

    apps[app] = cut_then_run
    return cut


def cut_ami_in_action(
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    seconds: float,
    first: Callable[[dict[str, str]], bool] = lambda _msg: True,
    *,
    ran: bool = False,
) -> list[dict[str, str]]:
    """Cut the daemon's AMI link for ``seconds`` (real) as the simulator reads the first AMI ``action`` (lower
    case: ``redirect``) whose message ``first`` matches: Asterisk never read it, or with ``ran`` it runs and its
    response goes to a closed session. Returns the list that gets that message."""
    handler, cut = ami_actions.HANDLERS[action], []

    async def cut_off(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
        if not cut and first(msg):
            cut.append(msg)
            s.sim.ami_outage(seconds)
            if not ran:
                return
        await handler(s, aid, msg, h)

    monkeypatch.setitem(ami_actions.HANDLERS, action, cut_off)
    return cut


def _observe_stasis(w: Wire) -> None:
    """What the daemon's ARI application receives (StasisStart/StasisEnd) and what its router does with it."""

    def on_raw(event: dict[str, Any]) -> None:
        if event.get("type") in ("StasisStart", "StasisEnd"):
            w.ari.append(event)

    w.ctx.require(AriClient).on_raw(on_raw, first=True)
    router = w.ctx.require(StasisRouter)
    dispatch = router.dispatch

    def spy(incoming: Incoming) -> Any:
        task = dispatch(incoming)
        w.routed.append((incoming, task is not None))
        return task

    router.dispatch = spy  # type: ignore[method-assign]
