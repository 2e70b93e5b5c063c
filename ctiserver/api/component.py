"""API component: serves REST + WebSocket + static console on ``config.api`` (127.0.0.1:8080 by default).
Provides ``ApiServer`` (``.url``, ``.port``, ``.hub``, ``.metrics``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ctiserver.api.app import build_app
from ctiserver.api.auth import Authenticator, FailureLimiter, InMemoryTokenStore, TokenStore
from ctiserver.api.known_tokens import KnownTokens
from ctiserver.api.metrics import Metrics
from ctiserver.api.ws import WsHub
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.log import EventLog, MemoryEventStore
from ctiserver.events.webhooks import WebhookDispatcher
from ctiserver.logs import get_logger

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


class AuthConfig(BaseModel):
    """Section ``auth``: throttling of failed authentications per client address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_limit: int = Field(10, ge=1)
    failure_window: float = Field(60.0, gt=0)
    agent_recordings: bool = False  # the handling agent may download its calls' recordings


class ApiServer:
    def __init__(self, host: str, port: int, hub: WsHub, metrics: Metrics, auth: Authenticator) -> None:
        self.host = host
        self.port = port
        self.hub = hub
        self.metrics = metrics
        self.auth = auth

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def token_store(ctx: AppContext) -> TokenStore:
    from ctiserver.store.database import Database

    db = ctx.maybe(Database)
    if db is None:
        log.warning("no database: API tokens live in memory only")
        return InMemoryTokenStore()
    from ctiserver.api.token_store import SqlTokenStore

    return SqlTokenStore(db.sessions)


def _wire_metrics(ctx: AppContext, metrics: Metrics, hub: WsHub, event_log: EventLog) -> None:
    by_type: dict[str, Any] = {}  # the counter's child per event type (labels() costs a lock and a lookup)

    def on_event(event: DomainEvent) -> None:
        child = by_type.get(event.type)
        if child is None:
            child = by_type[event.type] = metrics.events.labels(type=event.type)
        child.inc()

    event_log.on_append.append(on_event)

    def on_pop(event: DomainEvent) -> None:
        started = event.data.get("trigger_time")
        if isinstance(started, int | float):
            metrics.pop_latency.observe(max(0.0, ctx.clock.now() - float(started)))

    hub.on_pop.append(on_pop)
    metrics.ws_clients.set_function(lambda: len(hub.sessions))
    from ctiserver.api.services import CallsService

    calls = ctx.maybe(CallsService)  # type: ignore[type-abstract]
    if calls is not None:
        metrics.calls_active.set_function(lambda: len(calls.active_calls()))
    metrics.check("event_log", lambda: event_log.written_seq >= event_log.last_seq - 10_000)
    _live_figures(ctx, metrics)
    for name in ("ami", "ari"):
        link = _link(ctx, name)
        if link is not None:
            metrics.check(name, link)
    from ctiserver.pbx.dialplan_check import DialplanCheck

    dialplan = ctx.maybe(DialplanCheck)
    if dialplan is not None:
        metrics.check("dialplan", lambda: dialplan.ok)
    from ctiserver.pbx.ami_grants import AmiGrants

    grants = ctx.maybe(AmiGrants)
    if grants is not None:
        metrics.check("ami_grants", lambda: grants.ok)


def _live_figures(ctx: AppContext, metrics: Metrics) -> None:
    """Queues, agents and dialler campaigns on ``/metrics``, read at scrape time (``live_metrics.py``)."""
    from ctiserver.api.live_metrics import LiveFigures
    from ctiserver.api.services import AgentsService, QueuesService

    dialer: Any = None
    with contextlib.suppress(ImportError):
        from ctiserver.dialer.service import DialerService

        dialer = ctx.maybe(DialerService)
    queues = ctx.maybe(QueuesService)  # type: ignore[type-abstract]
    agents = ctx.maybe(AgentsService)  # type: ignore[type-abstract]
    metrics.registry.register(LiveFigures(queues, agents, dialer))


def _link(ctx: AppContext, name: str) -> Any:
    try:
        from ctiserver.pbx.node import PbxNode  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    node = ctx.maybe(PbxNode)
    client = getattr(node, name, None) if node is not None else None
    connected = getattr(client, "connected", None)
    if connected is None:
        return None
    return lambda: bool(connected.is_set() if hasattr(connected, "is_set") else connected)


async def _backlog(metrics: Metrics, dispatcher: WebhookDispatcher) -> None:
    while True:
        try:
            metrics.webhook_backlog.set(await dispatcher.store.backlog())
        except Exception:
            log.warning("webhook backlog unavailable")
        await asyncio.sleep(5.0)


def provide_adapters(ctx: AppContext) -> None:
    """Bind the API's service Protocols to the services the composition root runs (when they run)."""
    from ctiserver.api import adapters
    from ctiserver.api.services import AgentsService, CallActions, CallsService, QueuesService

    acd = _maybe(ctx, "ctiserver.acd.service", "AcdService")
    tracker = _maybe(ctx, "ctiserver.calls.tracker", "Tracker")
    control = _maybe(ctx, "ctiserver.control", "CallControl")
    live = _maybe(ctx, "ctiserver.kpi.live", "LiveKpis")
    if acd is not None:
        ctx.provide(adapters.AcdAgents(acd), as_type=AgentsService)
    from ctiserver.api.observed import provide_observed

    provide_observed(ctx)  # app_queue agents (acd.observer): /api/observer/agents and /api/agents
    if tracker is not None:
        ctx.provide(adapters.TrackerCalls(tracker, acd), as_type=CallsService)
    transfers = _pbx_transfers(ctx, tracker)
    if acd is not None or control is not None or transfers is not None:
        actions = adapters.AcdCallActions(acd, control, tracker, _pbx_recordings(ctx, tracker), transfers)
        ctx.provide(actions, as_type=CallActions)
    if live is not None:
        ctx.provide(adapters.LiveQueues(live, acd), as_type=QueuesService)
    _provide_reports(ctx)
    _provide_lists(ctx)
    # IvrScripts: the IVR component provides its own admin view (ctiserver/ivr/admin.py), when it runs


def _pbx_recordings(ctx: AppContext, tracker: Any) -> Any:
    """Recording control of calls the ACD does not hold (the dialler's AMI desk, app_queue), by MixMonitor."""
    from ctiserver.acd.ami_recording import PbxRecordings

    recordings = _maybe(ctx, "ctiserver.recording.service", "RecordingService")
    if recordings is None:
        return None
    dialer = _maybe(ctx, "ctiserver.dialer.service", "DialerService")
    desk = getattr(getattr(dialer, "desk", None), "start_recording", None)
    return PbxRecordings(recordings, tracker, desk)


def _pbx_transfers(ctx: AppContext, tracker: Any) -> Any:
    """Transfers of calls the ACD does not hold (app_queue calls), through Asterisk over AMI."""
    from ctiserver.acd.ami_transfer import AmiTransfers
    from ctiserver.acd.component import ami_client
    from ctiserver.acd.config import AcdConfig

    ami = ami_client(ctx)
    if tracker is None or ami is None:
        return None
    acd = ctx.config.section("acd", AcdConfig)
    return AmiTransfers(ami, tracker, acd.transfer_context, {a.id: a.device for a in acd.agents})


def _provide_reports(ctx: AppContext) -> None:
    """Historical KPI reports read the database the store component runs (the same SQL as ``kpi report``)."""
    from ctiserver.api.reports import HistoricalReports
    from ctiserver.api.services import ReportsService
    from ctiserver.kpi.config import KpiConfig
    from ctiserver.store.database import Database

    db = ctx.maybe(Database)
    if db is not None and ctx.maybe(ReportsService) is None:  # type: ignore[type-abstract]
        kpi = ctx.config.section("kpi", KpiConfig)
        reports = HistoricalReports(db.sessions, kpi, ctx.clock, ctx.config.default_region)
        ctx.provide(reports, as_type=ReportsService)


def _provide_lists(ctx: AppContext) -> None:
    from ctiserver.acd.config import AcdConfig
    from ctiserver.api.adapters import AcdLists
    from ctiserver.api.services import ConfigLists

    ctx.provide(AcdLists(ctx.config.section("acd", AcdConfig)), as_type=ConfigLists)


def _maybe(ctx: AppContext, module: str, name: str) -> Any:
    import importlib

    try:
        kind = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    try:
        return ctx.maybe(kind)
    except TypeError:  # a Protocol that is not runtime-checkable and was not provided under its own type
        return None


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.api
    bus = ctx.require(Bus)  # type: ignore[type-abstract]
    event_log = ctx.maybe(EventLog) or EventLog(MemoryEventStore())
    provide_adapters(ctx)
    auth_cfg = ctx.config.section("auth", AuthConfig)
    limiter = FailureLimiter(ctx.clock, auth_cfg.failure_limit, auth_cfg.failure_window)
    tokens = KnownTokens(token_store(ctx))  # a database that does not answer does not take the API down with it
    auth = Authenticator(tokens, ctx.clock, limiter, agent_recordings=auth_cfg.agent_recordings)
    hub = WsHub(bus, event_log, ctx.clock)
    metrics = Metrics()
    _wire_metrics(ctx, metrics, hub, event_log)
    app = build_app(
        ctx, auth, hub, metrics, ctx.clock, node_id=ctx.config.node_id, cors_origins=tuple(cfg.cors_origins)
    )
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    port = cfg.port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = int(server.sockets[0].getsockname()[1])
    api = ApiServer(cfg.host, port, hub, metrics, auth)
    ctx.provide(api)
    dispatcher = ctx.maybe(WebhookDispatcher)
    if dispatcher is not None:
        ctx.spawn(_backlog(metrics, dispatcher), name="cti:webhook-backlog")
    log.info("API listening", url=api.url)
    try:
        yield
    finally:
        for session in list(hub.sessions):
            await session.ws.close()
        await runner.cleanup()
