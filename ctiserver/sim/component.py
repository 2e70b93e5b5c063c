"""The simulator as the first component of the daemon (demo, end-to-end tests): when
``simulator.enabled``, start it, point the PBX configuration (AMI/ARI) at it, provide the ``Simulator`` and,
when ``simulator.traffic``, run the traffic generator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydantic import SecretStr

from ctiserver.sim.config import load_sim_config
from ctiserver.sim.simulator import Simulator
from ctiserver.sim.traffic import TrafficGenerator

if TYPE_CHECKING:
    from ctiserver.app import AppContext


@contextlib.asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.simulator
    if not cfg.enabled:
        yield
        return
    sim_config = load_sim_config(cfg.config_file, {"ami_port": cfg.ami_port, "ari_port": cfg.ari_port})
    async with Simulator(sim_config, clock=ctx.clock, seed=cfg.seed) as sim:
        pbx = ctx.config.pbx
        ami = pbx.ami.model_copy(
            update={
                "host": sim_config.host,
                "port": sim.ami_port,
                "username": sim_config.ami_user,
                "secret": SecretStr(sim_config.ami_secret),
            }
        )
        ari = pbx.ari.model_copy(
            update={
                "url": sim.ari_url,
                "username": sim_config.ari_user,
                "password": SecretStr(sim_config.ari_password),
            }
        )
        ctx.config = ctx.config.model_copy(update={"pbx": pbx.model_copy(update={"ami": ami, "ari": ari})})
        ctx.provide(sim)
        if cfg.traffic:
            async with TrafficGenerator(sim, sim_config.traffic, seed=cfg.seed) as traffic:
                ctx.provide(traffic)
                yield
        else:
            yield
