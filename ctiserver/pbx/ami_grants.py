"""May the AMI user do what this daemon asks of it? Asterisk runs an AMI action only when the user's manager.conf
``write =`` shares a class with the action's (``process_message``: ``Permission denied`` otherwise), and knows an
action only while the module that registers it is loaded (``Invalid/unknown command``). Either way the feature
that needs it fails call by call — an agent that cannot log in to app_queue, a campaign whose every Originate is
refused, recordings that never start — long after the admin installed it.

So after every AMI login (write classes are read at login: a changed manager.conf counts from the next one) this
asks ``ListCommands`` (authority 0, always allowed), which lists exactly the actions the user may run, and
compares it with what the running components declared they use (``need``). What is missing is logged once as an
error naming the action, what it is for, and the fix — the write class (Asterisk 22's authority of the action)
or the module — and ``ok`` (``/health`` ``checks.ami_grants``) is False until a login shows it granted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEventList, AmiResponse

log = get_logger(__name__)

# Asterisk 22's registration of each action ctiserver may use: write classes (any one suffices) and module
# (main/manager.c, apps/app_queue.c, apps/app_mixmonitor.c, res/res_manager_devicestate.c, main/pbx.c)
AUTHORITY: dict[str, tuple[tuple[str, ...], str]] = {
    "Atxfer": (("call",), ""),
    "BlindTransfer": (("call",), ""),
    "CoreShowChannels": (("system", "reporting"), ""),
    "DBDel": (("system",), ""),
    "DBGetTree": (("system", "reporting"), ""),
    "DeviceStateList": (("call", "reporting"), "res_manager_devicestate"),
    "Getvar": (("call", "reporting"), ""),
    "Hangup": (("system", "call"), ""),
    "MixMonitor": (("system",), "app_mixmonitor"),
    "MixMonitorMute": (("system", "call"), "app_mixmonitor"),
    "StopMixMonitor": (("system", "call"), "app_mixmonitor"),
    "Originate": (("originate",), ""),
    "QueueAdd": (("agent",), "app_queue"),
    "QueuePause": (("agent",), "app_queue"),
    "QueueRemove": (("agent",), "app_queue"),
    "Redirect": (("call",), ""),
    "Setvar": (("call",), ""),
    "ShowDialPlan": (("config", "reporting"), ""),
}

MIXMONITOR = ("MixMonitor", "MixMonitorMute", "StopMixMonitor", "CoreShowChannels")  # recording/mixmonitor.py


def listed(response: AmiResponse) -> frozenset[str]:
    """The actions of a ``ListCommands`` answer: one ``<Action>: <synopsis> (Priv: <classes>)`` header each."""
    return frozenset(key.lower() for key, value in response.headers if value.endswith(")") and "(Priv: " in value)


def fix(action: str) -> str:
    classes, module = AUTHORITY.get(action, ((), ""))
    grant = f"add one of {'/'.join(classes)} to the AMI user's write = in manager.conf" if classes else ""
    load = f"load {module}" if module else ""
    return " and ".join(p for p in (grant, load) if p) or "make the action available to the AMI user"


@dataclass(frozen=True, slots=True)
class GrantsReport:
    checked_at: float | None = None  # None: not checked yet
    missing: tuple[str, ...] = ()  # "<Action> (<what for>): <fix>"
    error: str | None = None  # the check itself failed (link lost)

    @property
    def ok(self) -> bool:
        return not self.missing


class AmiGrants:
    def __init__(self, ami: AmiClient, clock: Clock) -> None:
        self.ami = ami
        self.clock = clock
        self.needs: dict[str, list[str]] = {}  # action → what it is for
        self.report = GrantsReport()

    @property
    def ok(self) -> bool:
        return self.report.ok

    def need(self, actions: Iterable[str], purpose: str) -> None:
        """A component uses ``actions`` for ``purpose`` (declared while the daemon starts)."""
        for action in actions:
            self.needs.setdefault(action, []).append(purpose)

    async def watch(self, started: asyncio.Event) -> None:
        """Check once every component has declared its needs, then after every AMI login."""
        await started.wait()

        async def again() -> None:
            await self.check_once()

        self.ami.on_reconnect(again)
        if self.ami.connected.is_set():
            await self.check_once()

    async def check_once(self) -> GrantsReport:
        try:
            result = await self.ami.action("ListCommands")
        except AmiError as exc:  # link lost: the next login asks again
            self.report = GrantsReport(self.report.checked_at, self.report.missing, f"ListCommands: {exc}")
            return self.report
        response = result.response if isinstance(result, AmiEventList) else result
        if not response.ok:
            self.report = GrantsReport(self.clock.now(), self.report.missing, f"ListCommands: {response.message}")
            return self.report
        may = listed(response)
        missing = tuple(
            f"{action} ({'; '.join(dict.fromkeys(purposes))}): {fix(action)}"
            for action, purposes in sorted(self.needs.items())
            if action.lower() not in may
        )
        new = GrantsReport(self.clock.now(), missing)
        if missing and missing != self.report.missing:
            log.error("the AMI user may not run what ctiserver needs: that fails", missing=list(missing))
        elif not missing and self.report.missing:
            log.info("the AMI user may now run every action ctiserver needs")
        self.report = new
        return new


def need(ctx: Any, actions: Iterable[str], purpose: str) -> None:
    """For components: declare ``actions`` used for ``purpose`` to the daemon's ``AmiGrants`` (if the PBX runs)."""
    grants = ctx.maybe(AmiGrants)
    if grants is not None:
        grants.need(actions, purpose)
