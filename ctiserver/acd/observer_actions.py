"""Observer mode, acting: agents log in and pause through app_queue (QueueAdd / QueuePause with a reason /
QueueRemove). The resulting state changes come back as AMI events through ``QueueObserver``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ctiserver.pbx.ami.messages import AmiResponse


class AmiActions(Protocol):
    async def action(
        self,
        name: str,
        headers: Sequence[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the AMI client's own timeout
        check: bool = False,
    ) -> object: ...


class ObserverActionFailed(Exception):
    pass


class AppQueueAgents:
    def __init__(self, ami: AmiActions, pause_reasons: Sequence[str]) -> None:
        self._ami = ami
        self._reasons = tuple(pause_reasons)

    async def _do(self, name: str, headers: list[tuple[str, str]]) -> None:
        result = await self._ami.action(name, headers)
        response = result if isinstance(result, AmiResponse) else getattr(result, "response", None)
        if response is not None and not response.ok:
            raise ObserverActionFailed(f"{name}: {response.get('Message') or 'refused'}")

    async def login(
        self,
        interface: str,
        queues: Sequence[str],
        *,
        name: str = "",
        penalty: int = 0,
        paused_reason: str | None = None,
    ) -> None:
        if paused_reason is not None:
            self._check(paused_reason)
        for queue in queues:
            headers = [
                ("Queue", queue),
                ("Interface", interface),
                ("MemberName", name or interface),
                ("StateInterface", interface),
                ("Penalty", str(penalty)),
            ]
            if paused_reason is not None:
                headers += [("Paused", "true"), ("Reason", paused_reason)]
            await self._do("QueueAdd", headers)

    async def pause(self, interface: str, reason: str, queue: str | None = None) -> None:
        self._check(reason)
        headers = [("Interface", interface), ("Paused", "true"), ("Reason", reason)]
        if queue:
            headers.insert(0, ("Queue", queue))
        await self._do("QueuePause", headers)

    async def ready(self, interface: str, queue: str | None = None) -> None:
        headers = [("Interface", interface), ("Paused", "false")]
        if queue:
            headers.insert(0, ("Queue", queue))
        await self._do("QueuePause", headers)

    async def logout(self, interface: str, queues: Sequence[str]) -> None:
        for queue in queues:
            await self._do("QueueRemove", [("Queue", queue), ("Interface", interface)])

    def _check(self, reason: str) -> None:
        if reason not in self._reasons:
            raise ObserverActionFailed(f"unknown pause reason {reason!r}; known: {', '.join(self._reasons)}")
