"""Is ctiserver's dialplan loaded on the PBX? Every call ctiserver places or receives runs through contexts that
``ctiserver dialplan render`` writes (DIDs into ``Stasis``, ``ctiserver-outbound`` for call-backs and
click-to-dial, ``ctiserver-dialer``/``ctiserver-amd`` for the dialler …). When the admin has not copied the file
or not run ``dialplan reload``, Asterisk refuses or drops those calls one by one — a Local channel to a missing
extension fails in ``local_call`` with no cause at all. This asks the PBX instead, once the AMI link is up and
then every ``interval`` s (a reload is seen): AMI ``ShowDialPlan Context=<name>`` for each rendered context
(pbx.c answers ``Did not find context <name>``), and compares the ``ListDialplan`` items it lists (application and
data of each priority, as pbx_config stored them) with the rendered file read the same way
(``ctiserver.pbx.extensions_conf``): a configuration changed without a new render and reload — a DID added, the
AMD settings or the trunk changed — shows as *stale*, one line per difference. Extensions of ours the PBX has
beyond the rendered ones (the admin's own, in the same context) are no difference. What is missing or stale is
logged once as an error with the fix, and ``ok`` (``/health`` ``checks.dialplan``) is False until a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ctiserver.clock import Clock
from ctiserver.config import Config
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList
from ctiserver.pbx.extensions_conf import ExtensionsConf, parse

log = get_logger(__name__)

FIX = 'ctiserver dialplan render -o /etc/asterisk/extensions_ctiserver.conf && asterisk -rx "dialplan reload"'
MAX_DIFFERENCES = 20  # per context: enough to see what changed, not a flood


def differences(rendered: ExtensionsConf, context: str, listed: tuple[AmiEvent, ...]) -> list[str]:
    """How the ``ListDialplan`` items of ``context`` differ from the rendered file: rendered priorities the PBX
    lacks or has with another application or data (``exten,priority: …``). Hints and the PBX's extra extensions
    are left out."""
    loaded: dict[tuple[str, str], tuple[str, str]] = {}
    for e in listed:
        exten, prio = e.get("Extension"), e.get("Priority")
        if e.name == "ListDialplan" and exten is not None and prio is not None and prio.isdigit():
            loaded[(exten, prio)] = (e.get("Application") or "", e.get("AppData") or "")
    out: list[str] = []
    for exten in rendered.contexts.get(context, {}):
        for p in rendered.priorities(context, exten):
            want, have = (p.app, p.data), loaded.get((exten, str(p.number)))
            if have is None:
                out.append(f"{exten},{p.number}: not loaded ({p.app}({p.data}) rendered)")
            elif have[0].lower() != want[0].lower() or have[1] != want[1]:
                out.append(f"{exten},{p.number}: {have[0]}({have[1]}) loaded, {p.app}({p.data}) rendered")
    if len(out) > MAX_DIFFERENCES:
        out[MAX_DIFFERENCES:] = [f"… and {len(out) - MAX_DIFFERENCES} more"]
    return out


@dataclass(frozen=True, slots=True)
class DialplanReport:
    checked_at: float | None = None  # None: not checked yet
    missing: tuple[str, ...] = ()  # rendered contexts the PBX does not have
    error: str | None = None  # the check itself failed (e.g. the AMI user may not read the dialplan)
    stale: tuple[str, ...] = ()  # "<context> <exten>,<priority>: …" where the loaded dialplan differs from the render

    @property
    def ok(self) -> bool:
        return not self.missing and not self.stale


def local_context(endpoint: str) -> str | None:
    """``Local/<exten>@<context>[/n]`` → ``<context>``; any other endpoint → None."""
    if not endpoint.startswith("Local/") or "@" not in endpoint:
        return None
    return endpoint.split("@", 1)[1].split("/", 1)[0]


class DialplanCheck:
    def __init__(
        self,
        ami: AmiClient,
        rendered: ExtensionsConf,
        clock: Clock,
        interval: float = 60.0,
        render: Callable[[], Awaitable[ExtensionsConf]] | None = None,
    ) -> None:
        self.ami = ami
        self.clock = clock
        self.interval = interval
        self.render = render  # renders anew before each round: an IVR script's new DID is seen without a restart
        self.rendered = rendered
        self.report = DialplanReport()

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(self.rendered.contexts)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def lacks(self, endpoint: str) -> bool:
        """``Local/<exten>@<context>[/n]`` into a context the PBX was found to lack (other endpoints: False)."""
        return local_context(endpoint) in self.report.missing

    async def check_once(self) -> DialplanReport:
        missing: list[str] = []
        stale: list[str] = []
        error: str | None = None
        for context in self.contexts:
            try:
                result = await self.ami.action("ShowDialPlan", [("Context", context)])
            except AmiError as exc:  # link lost, timeout: try again on the next round
                return self._keep(f"ShowDialPlan: {exc}")
            response = result.response if isinstance(result, AmiEventList) else result
            if response.ok:
                listed = result.events if isinstance(result, AmiEventList) else ()
                stale += (f"{context} {d}" for d in differences(self.rendered, context, listed))
                continue
            if response.message.startswith("Did not find context"):
                missing.append(context)
            else:  # "Permission denied" (no dialplan/reporting read class): say so, claim nothing
                error = f"ShowDialPlan {context}: {response.message}"
        report = DialplanReport(self.clock.now(), tuple(missing), error, tuple(stale))
        self._tell(report)
        self.report = report
        return report

    def _keep(self, error: str) -> DialplanReport:
        self.report = DialplanReport(self.report.checked_at, self.report.missing, error, self.report.stale)
        return self.report

    def _tell(self, new: DialplanReport) -> None:
        old = self.report
        if new.missing and new.missing != old.missing:
            log.error("the PBX lacks ctiserver's dialplan: calls through it fail", missing=list(new.missing), fix=FIX)
        if new.stale and new.stale != old.stale:
            log.error(
                "the PBX runs another dialplan than ctiserver renders: render and reload",
                stale=list(new.stale),
                fix=FIX,
            )
        if not old.ok and new.ok:
            log.info("the PBX has ctiserver's dialplan now", contexts=len(self.contexts))
        if new.error and new.error != old.error:
            log.warning("cannot check the PBX's dialplan", error=new.error)

    async def _render(self) -> None:
        if self.render is None:
            return
        try:
            self.rendered = await self.render()
        except Exception as exc:  # e.g. a template edited badly: compare with the last good rendering
            log.warning("cannot render the dialplan: checking against the last rendering", error=str(exc))

    async def run(self) -> None:
        while True:
            await self.ami.connected.wait()
            try:
                await self._render()
                await self.check_once()  # link trouble is kept in the report; anything else must not end the loop
            except Exception:
                log.exception("dialplan check failed")
            await self.clock.sleep(self.interval)


async def rendered_of(config: Config) -> ExtensionsConf:
    """What ``ctiserver dialplan render`` writes for ``config``, read as pbx_config reads it (in a thread)."""
    from ctiserver.cli.dialplan import render

    return await asyncio.to_thread(lambda: parse(render(config)))
