"""The PBX component for the composition root: one ``PbxNode`` (AMI + ARI) from ``config.pbx``, provided as
``PbxNode``, ``AmiClient`` and ``AriClient`` for the components after it; and ``DialplanCheck``, which asks the
PBX whether the rendered dialplan is loaded (``pbx.dialplan_check`` s apart); ``AmiGrants``, which asks it after
every AMI login whether the AMI user may run the actions the components declared they use."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami_grants import AmiGrants
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.dialplan_check import DialplanCheck, rendered_of
from ctiserver.pbx.node import PbxNode

if TYPE_CHECKING:
    from ctiserver.app import AppContext


@contextlib.asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    async with PbxNode(ctx.config.pbx, ctx.clock) as node:
        ctx.provide(node)
        ctx.provide(node.ami, as_type=AmiClient)
        ctx.provide(node.ari, as_type=AriClient)
        grants = AmiGrants(node.ami, ctx.clock)
        ctx.provide(grants)
        ctx.spawn(grants.watch(ctx.started), name="cti:ami-grants")
        interval = ctx.config.pbx.dialplan_check
        if interval > 0:
            grants.need(("ShowDialPlan",), "the dialplan check")
            render = functools.partial(rendered_of, ctx.config)  # anew each round: IVR scripts hot-reload their DIDs
            check = DialplanCheck(node.ami, await render(), ctx.clock, interval, render)
            ctx.provide(check)
            ctx.spawn(check.run(), name="cti:dialplan-check")
        yield
