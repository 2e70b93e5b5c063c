"""ACD component: the ``AcdService`` (agents, queues, routing), its IVR adapter, device states from AMI, and
observer mode for app_queue when ``acd.observer`` is on."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

from ctiserver.acd.ami_recording import PbxRecordings
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.ivr_target import AcdQueueTarget
from ctiserver.acd.observer import QueueObserver
from ctiserver.acd.observer_actions import AppQueueAgents
from ctiserver.acd.persist import AgentStateStore, MemoryAgentStore
from ctiserver.acd.service import AcdService
from ctiserver.acd.survey import PostCallSurvey
from ctiserver.calls.tracker import Tracker
from ctiserver.control import CallControl, StasisPresence
from ctiserver.events import Bus
from ctiserver.logs import get_logger
from ctiserver.pbx.ami_grants import MIXMONITOR, need
from ctiserver.pbx.device_states import DOWN, ON_A_CALL, follow

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)



def agent_store(ctx: AppContext) -> AgentStateStore:
    try:
        from ctiserver.store.database import Database
    except ImportError:  # pragma: no cover
        return MemoryAgentStore()
    db = ctx.maybe(Database)
    if db is None:
        log.warning("no database: agent states are kept in memory only")
        return MemoryAgentStore()
    from ctiserver.acd.sql import SqlAgentStore

    return SqlAgentStore(db.sessions, db.group)


def ami_client(ctx: AppContext) -> Any:
    """The AMI client of the PBX node, if the pbx component runs."""
    from ctiserver.pbx.ami.client import AmiClient

    client = ctx.maybe(AmiClient)
    if client is not None:
        return client
    try:
        node_type = importlib.import_module("ctiserver.pbx.node").PbxNode
    except (ImportError, AttributeError):
        return None
    return getattr(ctx.maybe(node_type), "ami", None)


def with_progress(ctx: AppContext, control: CallControl) -> CallControl:
    """Over ARI, dial agents through ``ProgressControl`` so the screen-pop fires when the phone rings."""
    from ctiserver.control.ari import AriCallControl
    from ctiserver.control.ari_dial import ProgressControl
    from ctiserver.control.ari_link import AriLink

    link: Any = ctx.maybe(AriLink)
    if link is None:  # the pbx component runs: the control shares the PBX node's AriClient (raw events)
        from ctiserver.pbx.ari.client import AriClient

        client = ctx.maybe(AriClient)
        link = _RawEvents(client) if client is not None else None
    if isinstance(control, AriCallControl) and link is not None:
        return cast(CallControl, ProgressControl(control, link))
    return control


class _RawEvents:
    """``AriClient.on_raw`` as the ``on_event`` source ``ProgressControl`` listens to."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def on_event(self, callback: Any) -> None:
        self._client.on_raw(callback)


def recorder(ctx: AppContext) -> Any:
    from ctiserver.recording.service import RecordingService

    return ctx.maybe(RecordingService)


def post_call_survey(ctx: AppContext, cfg: AcdConfig) -> PostCallSurvey | None:
    """The IVR's survey port, when it runs; queues with ``survey:`` hang up the caller without it."""
    try:
        survey: PostCallSurvey | None = ctx.maybe(PostCallSurvey)  # type: ignore[type-abstract]
    except TypeError:  # not provided (a Protocol is not runtime-checkable)
        survey = None
    wanted = [q.name for q in cfg.queues if q.survey]
    if survey is None and wanted:
        log.warning("no IVR: the post-call survey of these queues is skipped", queues=wanted)
    return survey


def watch_devices(ami: Any, acd: AcdService) -> None:
    """Device states (``pbx/device_states.py``, listed again after every AMI login) → agent (un)available:
    ``UNAVAILABLE`` when a phone unregisters; on a call (``INUSE``, ``BUSY``, ``RINGING``, ``RINGINUSE``,
    ``ONHOLD``) when the agent's phone took or made a call past the ACD — a ready agent is then offered nothing
    until it is ``NOT_INUSE`` again."""
    tasks: set[asyncio.Task[None]] = set()

    def on_device(device: str, state: str) -> None:
        if acd.agents.by_device(device) is None:
            return
        change = acd.device_state(device, state not in DOWN, state in ON_A_CALL)
        task = asyncio.get_running_loop().create_task(change)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    follow(ami, on_device)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("acd", AcdConfig)
    bus: Bus | None = ctx.maybe(Bus)  # type: ignore[type-abstract]
    control: CallControl | None = ctx.maybe(CallControl)  # type: ignore[type-abstract]
    if not cfg.enabled or bus is None:
        yield
        return
    store = agent_store(ctx)
    ami = ami_client(ctx)
    async with contextlib.AsyncExitStack() as stack:
        if control is not None:
            control = with_progress(ctx, control)
            presence = ctx.maybe(StasisPresence)
            acd = await stack.enter_async_context(
                AcdService(
                    cfg,
                    control,
                    ctx.clock,
                    bus,
                    store,
                    recorder(ctx),
                    post_call_survey(ctx, cfg),
                    control_up=presence.is_up if presence is not None else None,
                )
            )
            ctx.provide(acd)
            from ctiserver.pbx.dialplan_check import DialplanCheck

            dialplan = ctx.maybe(DialplanCheck)
            acd.context_missing = dialplan.lacks if dialplan is not None else None
            target = AcdQueueTarget(acd, control)
            stack.push_async_callback(target.close)
            ctx.provide(target)
            if ami is not None:
                watch_devices(ami, acd)
                need(ctx, ("DeviceStateList",), "the agents' phone states after an AMI reconnect")
        else:
            log.warning("no call control: the ACD routes no calls (observer mode only)")
        ids = {a.device: a.id for a in cfg.agents}
        tracker = ctx.maybe(Tracker)
        if tracker is not None:
            tracker.name_agents(ids)  # app_queue members are these agents in the calls' facts too
        if cfg.observer and ami is not None:
            observer = QueueObserver(ctx.clock, bus, store, agent_ids=ids)
            ami.on_event("*", observer.feed)
            ctx.provide(observer)
            ctx.provide(AppQueueAgents(ami, cfg.pause_reasons))
            need(ctx, ("QueueAdd", "QueueRemove", "QueuePause"), "agents' log-in and pauses in app_queue")
            need(ctx, ("BlindTransfer", "Atxfer", "Hangup"), "transfers of app_queue calls")
            ctx.spawn(observer.run(), name="cti:acd-observer")
            ctx.spawn(observer.wrapup_loop(), name="cti:acd-observer-wrapup")
            rec = recorder(ctx)
            if rec is not None and rec.config.app_queue:  # app_queue calls recorded by their queue's policy
                need(ctx, MIXMONITOR, "recordings of app_queue calls")
                answers = bus.subscribe("agent.answered")
                stack.callback(answers.close)
                ctx.spawn(PbxRecordings(rec, tracker).follow(answers), name="cti:acd-observer-recording")
        yield
