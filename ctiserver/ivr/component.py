"""Wires the IVR into the daemon: registry (hot reload task), interpreter services, the ``did``/``survey``
handlers of the Stasis router."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ctiserver.app import AppContext
from ctiserver.control import CallControl
from ctiserver.control.router import StasisRouter
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import new_event
from ctiserver.ivr.admin import IvrAdmin
from ctiserver.ivr.config import IvrConfig, acd_queue_names
from ctiserver.ivr.http_fetch import AiohttpFetcher
from ctiserver.ivr.ports import BusSurveys, ContactLookup, QueueRequest
from ctiserver.ivr.recorder import StepRecorder, TrackerRecorder
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.run_state import IvrSettings, Services
from ctiserver.ivr.service import IvrService
from ctiserver.logs import get_logger

log = get_logger(__name__)


def _service(ctx: AppContext, kind: Any) -> Any:
    """``ctx.maybe`` for protocols: provided ``as_type=`` the protocol, or absent."""
    try:
        return ctx.maybe(kind)
    except TypeError:  # not provided: the isinstance fallback does not work on protocols
        return None


def _maybe(ctx: AppContext, module: str, name: str) -> Any:
    """A service from a later/optional area, found by its class name (no hard import of that area)."""
    try:
        kind = getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError):
        return None
    return ctx.maybe(kind)


def _contacts(ctx: AppContext) -> ContactLookup | None:
    provided: ContactLookup | None = _service(ctx, ContactLookup)
    if provided is not None:
        return provided
    crm = _maybe(ctx, "ctiserver.crm.service", "CrmService")
    if crm is None:
        return None
    from ctiserver.crm.ivr_port import IvrContactLookup

    return IvrContactLookup(crm)


class LateQueueTarget:
    """The ACD starts after the IVR: resolve its ``QueueTarget`` on first use; until there is one, the call
    continues in the dialplan at ``<queue>@queue_context``."""

    def __init__(self, ctx: AppContext, control: CallControl, settings: IvrSettings, bus: Bus | None) -> None:
        self.ctx = ctx
        self.control = control
        self.settings = settings
        self.bus = bus

    def _target(self) -> Any:
        return _maybe(self.ctx, "ctiserver.acd.ivr_target", "AcdQueueTarget")

    async def enqueue(self, request: QueueRequest) -> str | None:
        target = self._target()
        if target is None:
            await self.control.continue_in_dialplan(
                request.channel_id, self.settings.queue_context, request.queue
            )
            return f"dialplan {request.queue}@{self.settings.queue_context}"
        result: str | None = await target.enqueue(request)
        return result

    async def request_callback(self, request: Any) -> None:
        target = self._target()
        if target is not None:
            await target.request_callback(request)
            return
        log.warning("call-back requested but no ACD is running; published only", call_id=request.call_id)
        if self.bus is not None:
            data = {
                "number": request.number,
                "queue": request.queue,
                "source": "ivr",
                "attached": dict(request.attached),
            }
            await self.bus.publish(
                new_event("callback.requested", request.call_id, data, request.requested_at)
            )


class LateDnc:
    """The dialler starts after the IVR: its do-not-call lists (``DialerDnc``) are found on first use."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def do_not_call(self, number: str, campaign: str | None, reason: str, call_id: str = "") -> str:
        lists = _maybe(self.ctx, "ctiserver.dialer.ivr_dnc", "DialerDnc")
        if lists is None:
            raise ValueError("no do-not-call lists: the dialler does not run")
        stored: str = await lists.do_not_call(number, campaign, reason, call_id)
        return stored


def _provide_admin(ctx: AppContext, registry: ScriptRegistry) -> None:
    """The admin API's ``IvrScripts`` service (the api area defines the protocol; it starts after us)."""
    admin = IvrAdmin(registry)
    ctx.provide(admin)
    try:
        from ctiserver.api.services import IvrScripts
    except ImportError:
        return
    ctx.provide(admin, as_type=IvrScripts)


def _provide_post_call(ctx: AppContext, service: IvrService, control: CallControl) -> None:
    """The ACD's ``PostCallSurvey`` port (the ACD starts after us and looks it up by that protocol)."""
    from ctiserver.ivr.post_call import IvrPostCallSurvey

    survey = IvrPostCallSurvey(service, control)
    ctx.provide(survey)
    try:
        from ctiserver.acd.survey import PostCallSurvey
    except ImportError:
        return
    ctx.provide(survey, as_type=PostCallSurvey)


@contextlib.asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("ivr", IvrConfig)
    if not cfg.enabled:
        yield
        return
    registry = ScriptRegistry(
        cfg.scripts_dir, ctx.clock, sound_dirs=cfg.sound_dirs, known_queues=acd_queue_names(ctx.config)
    )
    report = await registry.reload()
    log.info("ivr scripts loaded", scripts=list(report.loaded), refused=list(report.refused))
    ctx.provide(registry)
    _provide_admin(ctx, registry)
    control: CallControl | None = _service(ctx, CallControl)
    router = ctx.maybe(StasisRouter)
    if control is None or router is None:
        log.warning("no call control: the IVR serves scripts (check/API) but takes no calls")
        ctx.spawn(registry.watch(cfg.watch_interval), name="cti:ivr-watch")
        yield
        return
    settings = IvrSettings(
        transfer_context=cfg.transfer_context,
        external_context=cfg.external_context,
        queue_context=cfg.queue_context,
        var_prefix=cfg.var_prefix,
        max_steps=cfg.max_steps,
        vars=dict(cfg.vars),
    )
    bus: Bus | None = _service(ctx, Bus)
    facts = _maybe(ctx, "ctiserver.calls.tracker", "Tracker")
    recorder: StepRecorder | None = (
        TrackerRecorder(facts, bus) if facts is not None and bus is not None else None
    )
    late = LateQueueTarget(ctx, control, settings, bus)
    async with AiohttpFetcher() as http:
        services = Services(
            contacts=_contacts(ctx),
            queue=late,
            callbacks=late,
            dnc=LateDnc(ctx),
            surveys=BusSurveys(bus) if bus is not None else None,
            http=http,
            bus=bus,
            scripts=registry.get,
            recorder=recorder,
            settings=settings,
        )
        service = IvrService(cfg, control, ctx.clock, registry, services)
        router.register("did", service.handle_did)
        router.register("survey", service.handle_survey)
        ctx.provide(service)
        _provide_post_call(ctx, service, control)
        ctx.spawn(registry.watch(cfg.watch_interval), name="cti:ivr-watch")
        try:
            yield
        finally:
            router.unregister("did")
            router.unregister("survey")
