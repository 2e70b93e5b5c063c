"""A scripted PBX (the simulator over real sockets) wired to the IVR exactly as the daemon wires it:
AriLink (WebSocket + REST) → AriCallControl → StasisRouter → IvrService."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ctiserver.clock import SystemClock
from ctiserver.config import AriConfig
from ctiserver.control.ari import AriCallControl
from ctiserver.control.ari_link import AriLink
from ctiserver.control.router import StasisRouter
from ctiserver.events.bus import InMemoryBus
from ctiserver.ivr.config import IvrConfig
from ctiserver.ivr.http_fetch import AiohttpFetcher
from ctiserver.ivr.ports import BusSurveys, MemoryCallbacks, MemoryContacts
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.run_state import IvrSettings, Services
from ctiserver.ivr.service import IvrService
from ctiserver.sim.config import SimConfig, Step, _default_dialplan
from ctiserver.sim.simulator import Simulator
from tests.ivr.util import EXAMPLES


class ShiftedClock(SystemClock):
    """Real time that passes at the real pace, but shows another wall-clock date (business hours)."""

    def __init__(self, wall_start: float) -> None:
        self.offset = wall_start - time.time()

    def now(self) -> float:
        return time.time() + self.offset


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, Any]


@dataclass
class RecordingAri:
    """Every REST request the engine sends, in order; ``wait_for`` lets a test act when one is seen."""

    link: AriLink
    sent: list[Sent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        self.sent.append(Sent(method, path.removeprefix("/ari"), dict(params or {})))
        self.changed.set()
        return await self.link.request(method, path, params=params, body=body)

    def of(self, channel_id: str) -> list[Sent]:
        return [
            s for s in self.sent if channel_id in s.path or channel_id in str(s.params.get("playbackId", ""))
        ]

    async def wait_for(
        self, channel_id: str, method: str, fragment: str, media: str | None = None, within: float = 30.0
    ) -> Sent:
        async with asyncio.timeout(within):
            while True:
                for s in self.of(channel_id):
                    if (
                        s.method == method
                        and fragment in s.path
                        and (media is None or s.params.get("media") == media)
                    ):
                        return s
                self.changed.clear()
                await self.changed.wait()


def sim_config() -> SimConfig:
    plan = _default_dialplan()
    plan["from-external"]["101"] = (Step(app="Stasis", data="${CTI_APP},did,101"), Step(app="Hangup"))
    plan["from-external"]["150"] = (Step(app="Stasis", data="${CTI_APP},survey,csat"), Step(app="Hangup"))
    plan["queues"] = {
        "support": (Step(app="Answer"), Step(app="Queue", data="support,t,,,300"), Step(app="Hangup")),
        "sales": (Step(app="Answer"), Step(app="Queue", data="support,t,,,300"), Step(app="Hangup")),
    }
    return SimConfig(dialplan=plan, default_sound_seconds=0.3)


@dataclass
class Rig:
    sim: Simulator
    ari: RecordingAri
    control: AriCallControl
    router: StasisRouter
    service: IvrService
    registry: ScriptRegistry
    bus: InMemoryBus
    callbacks: MemoryCallbacks
    scripts_dir: Path


@contextlib.asynccontextmanager
async def rig(
    tmp: Path,
    *,
    wall: str = "2026-11-23T11:00:00+02:00",
    contacts: MemoryContacts | None = None,
    ivr_vars: dict[str, str] | None = None,
) -> AsyncIterator[Rig]:
    import datetime as dt

    for f in EXAMPLES.glob("*.yaml"):
        shutil.copy(f, tmp / f.name)
    clock = ShiftedClock(dt.datetime.fromisoformat(wall).timestamp())
    async with Simulator(sim_config(), seed=7) as sim:
        cfg = AriConfig(url=sim.ari_url, username="cti", password=SecretStr("cti-secret"), reconnect_min=0.05)
        async with AriLink(cfg, SystemClock()) as link, StasisRouter() as router, AiohttpFetcher() as http:
            await asyncio.wait_for(link.connected.wait(), 30)
            ari = RecordingAri(link)
            control = AriCallControl(ari, clock, router=router)
            link.on_event(control.feed)
            registry = ScriptRegistry(tmp, clock)
            await registry.reload()
            bus = InMemoryBus()
            callbacks = MemoryCallbacks()
            surveys = BusSurveys(bus)
            settings = IvrSettings(vars=ivr_vars or {})
            services = Services(
                contacts=contacts,
                callbacks=callbacks,
                surveys=surveys,
                http=http,
                bus=bus,
                scripts=registry.get,
                settings=settings,
            )
            service = IvrService(IvrConfig(scripts_dir=str(tmp)), control, clock, registry, services)
            router.register("did", service.handle_did)
            router.register("survey", service.handle_survey)
            yield Rig(sim, ari, control, router, service, registry, bus, callbacks, tmp)


async def finished(rig: Rig, channel_id: str, within: float = 30.0) -> Any:
    """The IVR session of ``channel_id`` once its script has ended (waits on the bus, no polling)."""
    session = rig.service.finished.get(channel_id)
    if session is not None:
        return session
    sub = rig.bus.subscribe(
        "ivr.step", predicate=lambda e: e.subject == channel_id and e.data.get("kind") == "end"
    )
    try:
        await asyncio.wait_for(sub.get(), within)
    finally:
        sub.close()
    await asyncio.sleep(0)  # the service files the session right after the final event
    return rig.service.finished[channel_id]
