"""The end-to-end rig: the simulator (AMI+ARI on 127.0.0.1), our ARI link + call control + Stasis router,
the ACD and recording services, and a small ``did`` handler in place of the IVR (DID 100 easy, 101 hard)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ctiserver.acd.component import watch_devices
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.ivr_target import AcdQueueTarget
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.acd.service import AcdService
from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.config import AmiConfig, AriConfig
from ctiserver.control import CallControl, ChannelGone
from ctiserver.control.ari import AriCallControl
from ctiserver.control.ari_dial import ProgressControl
from ctiserver.control.ari_link import AriLink
from ctiserver.control.router import Incoming, StasisRouter
from ctiserver.events import DomainEvent, InMemoryBus
from ctiserver.ivr.config import IvrConfig
from ctiserver.ivr.ports import BusSurveys
from ctiserver.ivr.ports import QueueRequest as IvrQueueRequest
from ctiserver.ivr.post_call import IvrPostCallSurvey
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.run_state import Services
from ctiserver.ivr.service import IvrService
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.recording.config import RecordingConfig
from ctiserver.recording.meta import MemoryRecordingStore
from ctiserver.recording.service import RecordingService
from ctiserver.sim.config import (
    EndpointConfig,
    FarEndConfig,
    SimConfig,
    Step,
    TrunkConfig,
    _default_dialplan,
    _default_endpoints,
)
from ctiserver.sim.simulator import Simulator
from tests.acd.clocks import FastClock
from tests.dialer.wire import rendered_dialer_plan
from tests.lag_proxy import lagging_proxy

JUNIORS = [str(n) for n in range(2001, 2013)]  # billing 3
SPECIALISTS = [str(n) for n in range(2013, 2021)]  # billing 8 + tech 9
DID_QUEUE = {"100": "easy", "101": "hard"}
SCRIPTS = Path(__file__).resolve().parents[2] / "ivr_scripts"


def sim_config(recordings: Path) -> SimConfig:
    agents = tuple(
        EndpointConfig(name=n, callerid_name=f"Agent {n}", callerid_num=n) for n in JUNIORS + SPECIALISTS
    )
    dialplan = _default_dialplan()
    dialplan["from-external"]["101"] = (Step(app="Stasis", data="${CTI_APP},did,101"), Step(app="Hangup"))
    # call-backs go out as on Asterisk: Local/<number>@ctiserver-outbound (rendered), Dial(PJSIP/<number>@trunk);
    # at the carrier every customer answers after 0.5 s and talks for up to 30 s (``sim.customer`` overrides)
    dialplan["ctiserver-outbound"] = rendered_dialer_plan()["ctiserver-outbound"]
    carrier = TrunkConfig(default=FarEndConfig(answer_after=0.5, hangup_after=30.0))
    return SimConfig(
        endpoints=_default_endpoints() + agents,
        trunks=(carrier,),
        dialplan=dialplan,
        recordings_dir=str(recordings),
    )


def acd_config(**over: Any) -> AcdConfig:
    agents = [{"id": n, "device": f"PJSIP/{n}", "skills": {"billing": 3}, "login": True} for n in JUNIORS]
    agents += [
        {"id": n, "device": f"PJSIP/{n}", "skills": {"billing": 8, "tech": 9}, "login": True}
        for n in SPECIALISTS
    ]
    queues = [
        {
            "name": "easy",
            "requirements": {"billing": 2},
            "strategy": "least_skilled",
            "wrapup": 1.5,
            "ring_timeout": 8,
            "callback": {"enabled": True, "endpoint": "Local/{number}@ctiserver-outbound", "offer_media": []},
        },
        {
            "name": "hard",
            "requirements": {"tech": 7},
            "strategy": "best_skill",
            "wrapup": 2.0,
            "ring_timeout": 8,
            "relax": [{"after": 15, "requirements": {}, "strategy": "best_skill"}],
        },
    ]
    return AcdConfig.model_validate(
        {"skills": ["billing", "tech"], "agents": agents, "queues": queues, **over}
    )


@dataclass
class Rig:
    sim: Simulator
    acd: AcdService
    recordings: RecordingService
    control: AriCallControl
    events: list[DomainEvent]
    clock: FastClock
    arrived: list[str]  # calls that reached the did handler
    gone_early: list[str]  # ... and hung up before they entered a queue
    tracker: Tracker  # the call tracker, fed from the simulator's AMI and the ACD's bus events
    ari_events: list[Mapping[str, Any]] = field(default_factory=list)  # every ARI event, as received
    ivr: IvrService | None = None  # with ``rig(..., survey=True)``: the IVR serving the post-call survey

    def of(self, *types: str) -> list[DomainEvent]:
        return [e for e in self.events if e.type in types]


async def ivr_service(tmp: Path, control: CallControl, clock: FastClock, bus: InMemoryBus) -> IvrService:
    """The IVR with the repository's ``csat`` script, its survey results published on ``bus``."""
    scripts = tmp / "scripts"
    scripts.mkdir()
    shutil.copy(SCRIPTS / "csat.yaml", scripts / "csat.yaml")
    registry = ScriptRegistry(scripts, clock)
    await registry.reload()
    services = Services(surveys=BusSurveys(bus), bus=bus, scripts=registry.get)
    return IvrService(IvrConfig(scripts_dir=str(scripts)), control, clock, registry, services)


@contextlib.asynccontextmanager
async def rig(
    tmp: Path,
    factor: float = 6.0,
    acd: AcdConfig | None = None,
    survey: bool = False,
    ami_lag: float = 0.0,
    ari_reconnect: float = 0.5,
) -> AsyncIterator[Rig]:
    """``ami_lag``: the AMI link's bytes reach the daemon that many (real) seconds late, as under load;
    ``ari_reconnect``: the ARI events socket's reconnect delay (s)."""
    clock = FastClock(factor)
    async with Simulator(sim_config(tmp / "rec"), clock=clock) as sim, contextlib.AsyncExitStack() as stack:
        ami_port = await stack.enter_async_context(lagging_proxy(sim.ami_port, ami_lag)) if ami_lag else sim.ami_port
        ari = AriConfig(url=sim.ari_url, reconnect_min=ari_reconnect, reconnect_max=ari_reconnect)
        async with AriLink(ari, clock) as link, StasisRouter() as router:
            base = AriCallControl(link, clock, router=router)
            link.on_event(base.feed)
            ari_events: list[Mapping[str, Any]] = []
            link.on_event(ari_events.append)
            control = cast(CallControl, ProgressControl(base, link))
            await asyncio.wait_for(link.connected.wait(), 10)
            bus = InMemoryBus()
            events: list[DomainEvent] = []
            bus.listeners.append(events.append)
            tracker = Tracker(clock)
            calls = CallService(tracker)
            bus.listeners.append(calls.on_engine_event)
            ami = AmiClient(AmiConfig(port=ami_port), clock)
            ami.on_event("*", calls.on_ami_event)
            await ami.start()
            await asyncio.wait_for(ami.connected.wait(), 10)
            rec = RecordingService(
                RecordingConfig(directory=str(tmp / "rec"), wait_for_file=10.0),
                control,
                clock,
                bus,
                MemoryRecordingStore(),
            )
            ivr = await ivr_service(tmp, control, clock, bus) if survey else None
            post_call = IvrPostCallSurvey(ivr, control) if ivr is not None else None
            async with AcdService(
                acd or acd_config(),
                control,
                clock,
                bus,
                MemoryAgentStore(),
                rec,
                post_call,
                control_up=link.connected.is_set,  # as the component: StasisPresence
            ) as service:
                target = AcdQueueTarget(service, control)
                watch_devices(
                    ami, service
                )  # AMI DeviceStateChange → agent (un)available, as the component does

                arrived: list[str] = []
                gone_early: list[str] = []

                async def did(incoming: Incoming) -> None:
                    arrived.append(incoming.channel_id)
                    try:
                        await control.answer(incoming.channel_id)
                    except ChannelGone:
                        gone_early.append(incoming.channel_id)
                        raise
                    queue = DID_QUEUE[incoming.args[1]]
                    await target.enqueue(
                        IvrQueueRequest(
                            call_id=incoming.channel_id,
                            channel_id=incoming.channel_id,
                            queue=queue,
                            skills={},
                            priority=None,
                            announcements=(),
                            attached={"did": incoming.args[1]},
                            caller_number=incoming.caller_number,
                            language="en",
                        )
                    )

                router.register("did", did)
                try:
                    yield Rig(
                        sim, service, rec, base, events, clock, arrived, gone_early, tracker, ari_events, ivr
                    )
                finally:
                    await target.close()
                    await ami.close()
