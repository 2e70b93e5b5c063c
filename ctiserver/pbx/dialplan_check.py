"""Is ctiserver's dialplan loaded on the PBX? Every call ctiserver places or receives runs through contexts that
``ctiserver dialplan render`` writes (DIDs into ``Stasis``, ``ctiserver-outbound`` for call-backs and
click-to-dial, ``ctiserver-dialer``/``ctiserver-amd`` for the dialler …). When the admin has not copied the file
or not run ``dialplan reload``, Asterisk refuses or drops those calls one by one — a Local channel to a missing
extension fails in ``local_call`` with no cause at all. This asks the PBX instead, once the AMI link is up and
then every ``interval`` s (a reload is seen): AMI ``ShowDialPlan Context=<name>`` for each rendered context
(pbx.c answers ``Did not find context <name>``). What is missing is logged once as an error with the fix, and
``ok`` (``/health`` ``checks.dialplan``) is False until it is there."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from ctiserver.clock import Clock
from ctiserver.config import Config
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEventList

log = get_logger(__name__)

FIX = 'ctiserver dialplan render -o /etc/asterisk/extensions_ctiserver.conf && asterisk -rx "dialplan reload"'
_NOT_CONTEXTS = frozenset({"general", "globals"})


def rendered_contexts(text: str) -> tuple[str, ...]:
    """The contexts an ``extensions.conf`` text defines (``[name]`` headers), in order, without [general]/[globals]."""
    names = re.findall(r"^\[([^\]\s]+)\]", text, flags=re.MULTILINE)
    return tuple(dict.fromkeys(n for n in names if n.lower() not in _NOT_CONTEXTS))


@dataclass(frozen=True, slots=True)
class DialplanReport:
    checked_at: float | None = None  # None: not checked yet
    missing: tuple[str, ...] = ()  # rendered contexts the PBX does not have
    error: str | None = None  # the check itself failed (e.g. the AMI user may not read the dialplan)

    @property
    def ok(self) -> bool:
        return not self.missing


class DialplanCheck:
    def __init__(self, ami: AmiClient, contexts: tuple[str, ...], clock: Clock, interval: float = 60.0) -> None:
        self.ami = ami
        self.contexts = contexts
        self.clock = clock
        self.interval = interval
        self.report = DialplanReport()

    @property
    def ok(self) -> bool:
        return self.report.ok

    def lacks(self, endpoint: str) -> bool:
        """``Local/<exten>@<context>[/n]`` into a context the PBX was found to lack (other endpoints: False)."""
        if not endpoint.startswith("Local/") or "@" not in endpoint:
            return False
        return endpoint.split("@", 1)[1].split("/", 1)[0] in self.report.missing

    async def check_once(self) -> DialplanReport:
        missing: list[str] = []
        error: str | None = None
        for context in self.contexts:
            try:
                result = await self.ami.action("ShowDialPlan", [("Context", context)])
            except AmiError as exc:  # link lost, timeout: try again on the next round
                return self._keep(f"ShowDialPlan: {exc}")
            response = result.response if isinstance(result, AmiEventList) else result
            if response.ok:
                continue
            if response.message.startswith("Did not find context"):
                missing.append(context)
            else:  # "Permission denied" (no dialplan/reporting read class): say so, claim nothing
                error = f"ShowDialPlan {context}: {response.message}"
        report = DialplanReport(self.clock.now(), tuple(missing), error)
        self._tell(report)
        self.report = report
        return report

    def _keep(self, error: str) -> DialplanReport:
        self.report = DialplanReport(self.report.checked_at, self.report.missing, error)
        return self.report

    def _tell(self, new: DialplanReport) -> None:
        old = self.report
        if new.missing and new.missing != old.missing:
            log.error("the PBX lacks ctiserver's dialplan: calls through it fail", missing=list(new.missing), fix=FIX)
        elif old.missing and not new.missing:
            log.info("the PBX has ctiserver's dialplan now", contexts=len(self.contexts))
        if new.error and new.error != old.error:
            log.warning("cannot check the PBX's dialplan", error=new.error)

    async def run(self) -> None:
        while True:
            await self.ami.connected.wait()
            try:
                await self.check_once()  # link trouble is kept in the report; anything else must not end the loop
            except Exception:
                log.exception("dialplan check failed")
            await self.clock.sleep(self.interval)


async def contexts_of(config: Config) -> tuple[str, ...]:
    """The contexts ``ctiserver dialplan render`` writes for ``config`` (templates read in a thread)."""
    from ctiserver.cli.dialplan import render

    return rendered_contexts(await asyncio.to_thread(render, config))
