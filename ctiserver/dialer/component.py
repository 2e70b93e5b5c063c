"""Dialer component: the ``DialerService`` with its store (SQL when the database runs), AMI lines (Originate
into the AMD context), the desk (the ACD, or the AMI desk), the ``dialer`` Stasis handler that holds answered
attempts for the desk, the attempts' outcomes filed on their calls in the call tracker, and the automatic call-backs
for abandoned inbound calls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ctiserver.dialer.ami_desk import AmiDesk
from ctiserver.dialer.ami_lines import AmiLines
from ctiserver.dialer.callbacks import AbandonedCallbacks
from ctiserver.dialer.config import DialerConfig
from ctiserver.dialer.held import HeldCalls
from ctiserver.dialer.ivr_dnc import DialerDnc
from ctiserver.dialer.left_in_flight import settle
from ctiserver.dialer.opt_out import OptOuts
from ctiserver.dialer.ports import Desk
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import DialerStore, MemoryDialerStore
from ctiserver.events import Bus
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami_grants import MIXMONITOR, need
from ctiserver.store.standby import Standby

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


def _store(ctx: AppContext) -> DialerStore:
    from ctiserver.store.database import Database

    db = ctx.maybe(Database)
    if db is None:
        log.warning("no database: dialer lists and attempts are kept in memory only")
        return MemoryDialerStore()
    from ctiserver.dialer.sql import SqlDialerStore

    return SqlDialerStore(db.sessions, ctx.clock)


def _desk(
    ctx: AppContext, cfg: DialerConfig, ami: AmiClient, lines: AmiLines, bus: Bus, held: HeldCalls | None
) -> Desk:
    acd: Any = None
    with contextlib.suppress(ImportError):
        from ctiserver.acd.service import AcdService

        acd = ctx.maybe(AcdService)
    if cfg.desk == "acd" or (cfg.desk == "auto" and acd is not None):
        if acd is None:
            raise RuntimeError("dialer.desk is 'acd' but the ACD is not running")
        from ctiserver.dialer.desk import AcdDesk

        return AcdDesk(acd, ctx.clock, in_stasis=held, bus=bus)
    from ctiserver.calls.service import CallService
    from ctiserver.recording.service import RecordingService

    need(ctx, ("Redirect", "DeviceStateList"), "the dialler's AMI desk: answered calls to the agents' phones")
    calls = ctx.maybe(CallService)
    recorder = ctx.maybe(RecordingService)
    if recorder is not None:  # without the recording service nothing here records
        need(ctx, MIXMONITOR, "recordings of the dialler's AMI desk calls")
    return AmiDesk(
        ami,
        ctx.clock,
        bus,
        list(cfg.agents),
        cfg.agent_context,
        cfg.wrapup,
        names=lines.names,
        recorder=recorder,
        device=cfg.agent_device,
        wrapped=calls.add_wrapup if calls is not None else None,
    )


def _hold_answered(ctx: AppContext) -> HeldCalls | None:
    """Answered attempts enter ``Stasis(ctiserver,dialer,<attempt>,<amd>,<cause>)``; keep them (instead of the
    router's hang-up for unknown calls) until the desk bridges or redirects them or they hang up. Returns the
    calls held now and whether the ARI application is connected (``Stasis`` fails without it), or None without
    call control."""
    try:
        from ctiserver.control import CallControl, StasisPresence
        from ctiserver.control.router import Incoming, StasisRouter
    except ImportError:  # pragma: no cover
        return None
    router = ctx.maybe(StasisRouter)
    control: CallControl | None = ctx.maybe(CallControl)  # type: ignore[type-abstract]
    presence = ctx.maybe(StasisPresence)
    if router is None or control is None or presence is None:
        return None

    held = HeldCalls(ctx.clock, presence.is_up)

    async def hold(incoming: Incoming) -> None:
        held.hold(incoming.channel_id)
        try:
            await control.wait_hangup(incoming.channel_id)
        finally:
            held.release(incoming.channel_id)

    with contextlib.suppress(ValueError):
        router.register("dialer", hold)
    return held


async def _file_attempts(calls: Any, bus: Bus) -> None:
    """Each attempt is a call of the tracker (its first leg is the attempt's channel: ChannelId = attempt id);
    its campaign, contact and outcome go on that call as attached data (``dialer_*``), persisted with it."""
    sub = bus.subscribe("dialer.attempt")
    try:
        async for event in sub:
            data = event.data
            for key, value in (
                ("dialer_campaign", data.get("campaign")),
                ("dialer_contact", data.get("contact_id")),
                ("dialer_outcome", data.get("outcome")),
            ):
                try:
                    calls.attach_data(event.subject, key, str(value or ""))
                except KeyError:  # no channel seen yet (or ever): the tracker holds the fact for a while
                    pass
                except Exception:  # one odd attempt must not stop the others being filed
                    log.exception("attempt not filed on its call", attempt=event.subject)
    finally:
        sub.close()


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("dialer", DialerConfig)
    bus: Bus | None = ctx.maybe(Bus)  # type: ignore[type-abstract]
    ami = ctx.maybe(AmiClient)
    if not cfg.enabled or bus is None or ami is None:
        if cfg.enabled:
            log.warning("dialer disabled: it needs the event bus and an AMI link")
        yield
        return
    from ctiserver.cli.dialplan import DialplanConfig

    amd = ctx.config.section("dialplan", DialplanConfig).amd  # what the rendered AMD() listens for
    lines = AmiLines(ami, ctx.clock, cfg.lines, after_greeting=amd.after_greeting_silence / 1000.0)
    need(ctx, ("Originate", "Setvar", "Redirect", "Hangup", "CoreShowChannels", "Getvar"), "the dialler's calls")
    held = _hold_answered(ctx)
    if held is not None:
        lines.stasis_ready = held.app_up  # no dialling while the app that holds answered calls is away
        lines.stasis_entered = held.entered  # when a verdict given while AMI was down was followed by Stasis
    from ctiserver.pbx.dialplan_check import DialplanCheck

    dialplan = ctx.maybe(DialplanCheck)
    lines.context_missing = dialplan.lacks if dialplan is not None else None  # nothing dialled through a hole
    standby = ctx.maybe(Standby)
    lines.lease_fresh = standby.fresh if standby is not None else None  # nothing dialled on an unconfirmed lease
    desk = _desk(ctx, cfg, ami, lines, bus, held)
    service = DialerService(_store(ctx), lines, desk, bus, ctx.clock)
    await service.load(cfg.campaigns)
    ctx.provide(service)
    ctx.provide(DialerDnc(service, ctx.config.default_region))  # the IVR's do_not_call nodes (an opt-out line)
    need(ctx, ("DBGetTree", "DBDel"), "opt-outs the PBX kept while the AMI link was down")
    opt_outs = OptOuts(service, ami)  # the key pressed during the message: the number on the DNC list
    ctx.spawn(service.watch(), name="cti:dialer-campaign-sync")  # CLI changes reach the running daemon
    calls: Any = None
    with contextlib.suppress(ImportError):
        from ctiserver.calls.service import CallService

        calls = ctx.maybe(CallService)
    if calls is not None:
        ctx.spawn(_file_attempts(calls, bus), name="cti:dialer-attempt-calls")
    ctx.spawn(settle(service, calls, ctx.clock), name="cti:dialer-left-in-flight")  # what a killed run left
    if cfg.abandoned_callbacks.enabled:
        callbacks = AbandonedCallbacks(service, bus, cfg.abandoned_callbacks)
        ctx.provide(callbacks)
        ctx.spawn(callbacks.run(), name="cti:dialer-callbacks")
    try:
        yield
    finally:
        await service.close()
        await opt_outs.close()
        if isinstance(desk, AmiDesk):
            await desk.close()
