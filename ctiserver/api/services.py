"""What the API needs from the other areas, as small Protocols.

The API never holds business rules: each endpoint calls one of these services, looked up in the
composition root by type (``ctx.provide(service, as_type=CallsService)``). When a service is not running
in this daemon the endpoint answers 503 ``unavailable`` — it never pretends. Plain JSON mappings go in
and out so areas keep their own models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Json = Mapping[str, Any]


@runtime_checkable
class CallsService(Protocol):
    def active_calls(self) -> Sequence[Json]: ...

    def get_call(self, call_id: str) -> Json | None: ...

    async def call_history(
        self, *, since: float | None, until: float | None, agent: str | None, queue: str | None, limit: int
    ) -> Sequence[Json]: ...


@runtime_checkable
class CallActions(Protocol):
    """Click-to-dial and in-call control (acd/recording own the rules)."""

    async def click_to_dial(self, agent: str, number: str, caller_id: str | None) -> str: ...

    async def transfer(self, call_id: str, target: str, kind: str) -> None: ...

    async def settle_transfer(self, call_id: str, complete: bool) -> None:
        """Complete (or cancel) the attended transfer in progress."""

    async def hangup(self, call_id: str) -> None: ...

    async def hold(self, call_id: str, on: bool) -> None: ...

    async def recording(self, call_id: str, action: str) -> Json: ...


@runtime_checkable
class RecordingFiles(Protocol):
    async def recording_meta(self, name: str) -> Json | None:
        """``{"name", "call_id", "agent", "path", "content_type", ...}`` or None."""
        ...

    async def call_recordings(self, call_id: str) -> Sequence[Json]:
        """The call's recordings, oldest first, as ``recording_meta`` gives them (purged ones included)."""
        ...


@runtime_checkable
class AgentsService(Protocol):
    def list_agents(self) -> Sequence[Json]: ...

    def get_agent(self, agent_id: str) -> Json | None: ...

    async def agent_action(self, agent_id: str, action: str, reason: str | None) -> Json: ...

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Json: ...


@runtime_checkable
class QueuesService(Protocol):
    def queue_stats(self) -> Sequence[Json]: ...

    def agent_stats(self, agent: str | None = None) -> Sequence[Json]:
        """Live KPIs per agent (``agent``: that one only)."""
        ...


@runtime_checkable
class ReportsService(Protocol):
    async def kpi_report(
        self, *, since: float, until: float, queue: str | None, interval: float | None, by: str
    ) -> Json: ...


@runtime_checkable
class ConfigLists(Protocol):
    """The configured pause reasons and call dispositions (``acd:`` section), for agents' pick lists."""

    def pause_reasons(self) -> Sequence[Json]: ...

    def dispositions(self) -> Sequence[Json]: ...


@runtime_checkable
class IvrScripts(Protocol):
    def list_scripts(self) -> Sequence[Json]: ...

    def get_script(self, name: str) -> Json | None: ...

    def validate_script(self, source: str) -> Sequence[Json]:
        """Problems as ``{"line", "column", "message", "path"}``; empty when valid."""
        ...

    async def put_script(self, name: str, source: str) -> Json: ...
