"""Call control for the daemon: the ARI link (events + REST), ``AriCallControl`` and the Stasis router.

Entered after the PBX component and before recording/IVR/ACD/dialer, which all use ``CallControl``; the IVR
registers the ``did`` handler with the router, the dialer/ACD claim their own legs through ``dial()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ctiserver.control import CallControl, ControlError, StasisPresence
from ctiserver.control.ari import AriCallControl
from ctiserver.control.ari_link import AriLink
from ctiserver.control.orphans import Orphans
from ctiserver.control.router import Incoming, StasisRouter
from ctiserver.logs import get_logger
from ctiserver.pbx.ari.client import AriClient, AriResync
from ctiserver.pbx.ari.resources import Channel, build

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


@contextlib.asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    ari_config = ctx.config.pbx.ari
    async with contextlib.AsyncExitStack() as stack:
        # One events WebSocket per Stasis app: a second one would take the app over (ApplicationReplaced).
        # Use the PBX node's AriClient when the pbx component runs; the small AriLink otherwise.
        shared = ctx.maybe(AriClient)
        link: Any = shared
        if link is None:
            link = await stack.enter_async_context(AriLink(ari_config, ctx.clock))
        router = await stack.enter_async_context(StasisRouter(ctx.clock))  # handlers stop first
        control = AriCallControl(link, ctx.clock, app=ari_config.app, router=router)

        async def unrouted(incoming: Incoming) -> None:
            with contextlib.suppress(ControlError):
                await control.hangup(incoming.channel_id)

        router.unrouted = unrouted
        orphans = Orphans(control)
        stack.push_async_callback(orphans.close)
        orphans.sweep_after(ctx.started, link.connected)  # an earlier run's calls, once our handlers are in

        async def resync(state: AriResync) -> None:
            await control.resync({c.id for c in state.channels}, {c.id for c in state.in_stasis}, state.connection)

        if shared is not None:
            shared.on_raw(control.feed)
            shared.on_raw(orphans.feed)

            async def resynced(state: AriResync) -> None:
                if state.connection > 1:
                    await resync(state)

            shared.on_resync(resynced)
        else:
            link.on_event(control.feed)
            link.on_event(orphans.feed)

            async def reconnected() -> None:  # the small AriLink asks what the PBX client's resync would give
                channels = tuple(build(Channel, c) for c in await link.request("GET", "/channels") or [])
                app = await link.request("GET", f"/applications/{ari_config.app}") or {}
                subscribed = frozenset(str(c) for c in app.get("channel_ids", ()))
                await resync(AriResync(link.connections, channels, subscribed, ari_config.app))

            link.on_reconnect(reconnected)
        ctx.provide(control, as_type=CallControl)
        ctx.provide(control)
        ctx.provide(router)
        ctx.provide(link)
        ctx.provide(StasisPresence(link.connected))
        try:  # give the events socket a moment, so calls arriving right after start are not refused
            await asyncio.wait_for(link.connected.wait(), 5)
        except TimeoutError:
            log.warning("ARI events socket not connected yet; retrying in the background", url=ari_config.url)
        yield
