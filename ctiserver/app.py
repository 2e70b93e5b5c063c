"""The one composition root.

The daemon is a stack of *components*, entered in ``COMPONENTS`` order as nested async context managers and left
in reverse order. A component is a module with

    @asynccontextmanager
    async def component(ctx: AppContext) -> AsyncIterator[None]:
        service = Service(ctx.config.section("x", XConfig), ctx.require(Bus), ...)
        async with service:             # or start/stop
            ctx.provide(service)        # available to later components by type
            yield

Background work runs as tasks of ``ctx.tasks`` (one TaskGroup), so nothing outlives the daemon: on SIGTERM the
stop event is set, components unwind in reverse order and the TaskGroup is cancelled and awaited.
Modules of ``COMPONENTS`` that do not exist (yet) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from ctiserver import runtime
from ctiserver.clock import Clock, SystemClock
from ctiserver.config import Config

log = logging.getLogger(__name__)

T = TypeVar("T")

COMPONENTS: tuple[str, ...] = (
    "ctiserver.sim.component",  # only acts when config.simulator.enabled (demo, tests)
    "ctiserver.store.component",
    "ctiserver.store.standby_component",  # one daemon per database: another one waits here as a standby
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.control.component",  # ARI call control + Stasis router (owner: ivr)
    "ctiserver.calls.component",
    "ctiserver.kpi.component",
    "ctiserver.crm.component",
    "ctiserver.recording.component",
    "ctiserver.ivr.component",
    "ctiserver.acd.component",
    "ctiserver.dialer.component",
    "ctiserver.privacy.component",  # erasures made elsewhere (the CLI, another daemon): forgotten in memory too
    "ctiserver.api.component",
)


class AppContext:
    """What components share: configuration, clock, a TaskGroup and a registry of services by type."""

    def __init__(
        self, config: Config, clock: Clock, tasks: asyncio.TaskGroup, stopping: asyncio.Event | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.tasks = tasks
        self.stopping = stopping or asyncio.Event()  # set: the daemon stops (SIGTERM, or a component asks)
        self.exit_code = 0  # the process's, when a component stops the daemon (the standby standing down: 75)
        self.started = asyncio.Event()  # every component is in (work that needs the others waits for it)
        self._services: dict[type[Any], Any] = {}

    def provide(self, service: Any, as_type: type[Any] | None = None) -> None:
        self._services[as_type or type(service)] = service

    def require(self, kind: type[T]) -> T:
        try:
            return self._services[kind]  # type: ignore[no-any-return]
        except KeyError:
            for value in self._services.values():
                try:
                    if isinstance(value, kind):
                        return value
                except TypeError:  # a Protocol that is not runtime_checkable: only an exact key matches
                    break
            raise LookupError(f"no service of type {kind.__name__} was provided") from None

    def maybe(self, kind: type[T]) -> T | None:
        try:
            return self.require(kind)
        except LookupError:
            return None

    def spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        return self.tasks.create_task(coro, name=name)


Component = Callable[["AppContext"], contextlib.AbstractAsyncContextManager[None]]


def _load_components(names: tuple[str, ...]) -> list[Component]:
    out: list[Component] = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        out.append(module.component)
    return out


@contextlib.asynccontextmanager
async def running(
    config: Config,
    *,
    clock: Clock | None = None,
    components: tuple[str, ...] = COMPONENTS,
    stopping: asyncio.Event | None = None,
) -> AsyncIterator[AppContext]:
    """Start every component; yield the context; stop everything in reverse order on exit. ``stopping``: set by
    the caller to stop (a component waiting at start — the standby — watches it too)."""
    async with asyncio.TaskGroup() as tasks:
        ctx = AppContext(config, clock or SystemClock(), tasks, stopping)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for factory in _load_components(components):
                    await stack.enter_async_context(factory(ctx))
                ctx.started.set()
                yield ctx
        finally:
            ctx.stopping.set()
            for task in list(asyncio.all_tasks()):
                if task.get_name().startswith("cti:") and not task.done():
                    task.cancel()


async def serve(config: Config, *, install_signals: bool = True) -> int:
    """Run the daemon until SIGTERM/SIGINT, or until a component stops it; returns the process's exit code."""
    from ctiserver.store.standby import StandbyAborted

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        async with running(config, stopping=stop) as ctx:
            runtime.settle()
            log.info("ctiserver started", extra={"node": config.node_id})
            await stop.wait()
            log.info("ctiserver stopping")
            code = ctx.exit_code
    except* StandbyAborted:  # raised in the TaskGroup's body: it comes wrapped in an ExceptionGroup
        log.info("ctiserver stopped while waiting as a standby")
    return code
