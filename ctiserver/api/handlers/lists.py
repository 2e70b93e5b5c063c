# mypy: disable-error-code="type-abstract"
"""The configured pick lists: pause reasons and call dispositions (``acd:`` section)."""

from __future__ import annotations

from typing import Any

from ctiserver.api.app import service
from ctiserver.api.auth import ALL_ROLES
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.services import ConfigLists

JsonList = list[dict[str, Any]]


@ROUTER.route(
    "GET",
    "/api/pause-reasons",
    roles=ALL_ROLES,
    summary="Configured pause reasons ({code, label, automatic}; automatic ones are set by the ACD)",
    tag="config",
    response=JsonList,
)
async def pause_reasons(req: ApiRequest) -> JsonList:
    return [dict(r) for r in service(req, ConfigLists, "configuration").pause_reasons()]


@ROUTER.route(
    "GET",
    "/api/dispositions",
    roles=ALL_ROLES,
    summary="Configured call dispositions ({code, label})",
    tag="config",
    response=JsonList,
)
async def dispositions(req: ApiRequest) -> JsonList:
    return [dict(d) for d in service(req, ConfigLists, "configuration").dispositions()]
