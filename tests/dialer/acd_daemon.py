"""The whole daemon (``ctiserver.app.COMPONENTS``: sim → store → events → pbx → control → calls → kpi → crm →
recording → ivr → acd → dialer → privacy → api) with ``dialer.desk: auto`` and the ACD running — the default
deployment — against the simulator over real sockets (AMI + ARI), on a scaled clock. The simulator runs the
dialer's contexts as ``ctiserver dialplan render`` writes them, ``Stasis(${CTI_APP},dialer,…)`` and
``Dial(PJSIP/<number>@trunk)`` included (the callees are parties behind the simulator's trunk)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ctiserver.api.auth import Role, new_token
from ctiserver.api.component import ApiServer
from ctiserver.app import COMPONENTS, AppContext, running
from ctiserver.config import Config
from ctiserver.events import Bus, DomainEvent
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.dialer.wire import Callee, number, rendered_dialer_plan
from tests.sim.scaled_clock import ScaledClock

QUEUE = "sales"
# an IVR script that puts every caller on DID 100 in the ``sales`` queue (``ivr_script(tmp)``)
QUEUE_ONLY_IVR = """script: queue-only
dids: ["100"]
language: en
nodes:
  sales:
    type: queue
    queue: sales
    skills: {german: 3}
"""
AGENTS = ["1001", "1002", "1003", "1004"]  # german 5: qualified for the campaign's queue
OUTSIDER = "1005"  # logged in and ready, but french only: never offered a dialler call
WRAPUP = 2.0


def callees(n: int, seed: int = 5) -> dict[str, Callee]:
    """Per ten callees: seven live humans, one answering machine, one never answering, one unreachable."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        kind = i % 10
        out[number(i)] = Callee(
            reachable=kind != 8,
            answers=kind not in (7, 8),
            machine=kind == 6,
            ring=rng.uniform(1.0, 3.0),
            # long enough that a live answer left without an agent still hears the message (AMD's verdict ~1.5 s,
            # the desk's 1.2 s, the Redirect) on a loaded machine at ×6, before the callee gives up (CI, session 22)
            talk=rng.uniform(8.0, 11.0),
        )
    return out


def _sim_yaml(tmp: Path) -> Path:
    base = SimConfig(recordings_dir=str(tmp / "rec"))
    plan = {**base.dialplan, **rendered_dialer_plan(stasis=True)}
    conf = base.model_copy(update={"dialplan": plan}).model_dump(mode="json")
    path = tmp / "sim.yaml"
    path.write_text(yaml.safe_dump(conf), encoding="utf-8")
    return path


def config(
    tmp: Path,
    campaign: dict[str, Any],
    recording: dict[str, Any] | None = None,
    auto_answer: bool = False,
    amd_wait: float = 4.0,
    callbacks: dict[str, Any] | None = None,
    sales: dict[str, Any] | None = None,
) -> Config:
    """``auto_answer``: the campaign's agents have it, and their queue asks their phones for it (Call-Info);
    ``sales``: more settings of the ``sales`` queue; ``callbacks``: ``dialer.abandoned_callbacks``."""
    agents: list[dict[str, Any]] = [
        {"id": a, "device": f"PJSIP/{a}", "skills": {"german": 5}, "login": True, "auto_answer": auto_answer}
        for a in AGENTS
    ]
    agents.append({"id": OUTSIDER, "device": f"PJSIP/{OUTSIDER}", "skills": {"french": 5}, "login": True})
    (tmp / "ivr").mkdir(exist_ok=True)
    return Config.model_validate(
        {
            "api": {"host": "127.0.0.1", "port": 0},
            "database": {"url": f"sqlite+aiosqlite:///{tmp}/cti.sqlite", "spool_dir": str(tmp / "spool")},
            "data_dir": str(tmp),
            # the clock runs up to ×6 while SQLite answers in real time: a renewal taking 1 s would be 6 s of the
            # daemon's lease, and the dialler held back until it comes (store/standby.py); a lease of a minute
            "standby": {"lease_seconds": 60.0},
            "simulator": {"enabled": True, "config_file": str(_sim_yaml(tmp))},
            "ivr": {"scripts_dir": str(tmp / "ivr")},
            "recording": {"directory": str(tmp / "rec"), **(recording or {})},
            "acd": {
                "skills": ["german", "french"],
                "agents": agents,
                "queues": [
                    {
                        "name": QUEUE,
                        "requirements": {"german": 3},
                        "wrapup": WRAPUP,
                        "ring_timeout": 10,
                        "auto_answer_header": "Call-Info=answer-after=0" if auto_answer else None,
                        **(sales or {}),
                    },
                    {"name": "paris", "requirements": {"french": 3}},
                ],
            },
            "dialer": {
                "desk": "auto",
                "lines": {"channel": "Local/{e164}@ctiserver-dialer/n", "amd_wait": amd_wait},
                "campaigns": [campaign],
                **({"abandoned_callbacks": callbacks} if callbacks else {}),
            },
        }
    )


@dataclass
class Daemon:
    ctx: AppContext
    sim: Simulator
    api: ApiServer
    clock: ScaledClock

    async def agent_token(self, agent: str) -> str:
        token, record = new_token(Role.AGENT, agent, f"agent {agent}", self.clock.now())
        await self.api.auth.store.add(record)
        return token


@asynccontextmanager
async def daemon(
    tmp: Path,
    campaign: dict[str, Any],
    factor: float,
    recording: dict[str, Any] | None = None,
    auto_answer: bool = False,
    callbacks: dict[str, Any] | None = None,
    sales: dict[str, Any] | None = None,
    start: float | None = None,
) -> AsyncIterator[Daemon]:
    """``start``: the clock's wall time at start (a restart goes on from the earlier run's time: at ×factor that
    is ahead of the real one); ``None``: now."""
    clock = ScaledClock(factor, start=start)  # calling windows follow the real wall clock
    # the AMD wait (a safety net) runs on the scaled clock (session 28): 4 real seconds, not 4 simulated — those
    # left the verdict's AMI event ~0.4 real s, and under CI load a machine went to an agent as NOTSURE
    cfg = config(tmp, campaign, recording, auto_answer, amd_wait=4.0 * factor, callbacks=callbacks, sales=sales)
    async with running(cfg, clock=clock, components=COMPONENTS) as ctx:
        yield Daemon(ctx, ctx.require(Simulator), ctx.require(ApiServer), clock)


def ivr_script(tmp: Path) -> None:
    """DID 100 → the ``sales`` queue, in the daemon's scripts folder (``QUEUE_ONLY_IVR``)."""
    (tmp / "ivr").mkdir(exist_ok=True)
    (tmp / "ivr" / "queue-only.yaml").write_text(QUEUE_ONLY_IVR, encoding="utf-8")


def listen(d: Daemon) -> list[DomainEvent]:
    """Every event the daemon's bus publishes from now on, in order."""
    seen: list[DomainEvent] = []
    bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
    bus.listeners.append(seen.append)  # type: ignore[attr-defined]
    return seen
