"""``GET /api/me``: who the bearer token is (role, agent) — the web console's sign-in asks this first.
(Added by the web engineer as a small additive endpoint.)"""

from __future__ import annotations

from typing import Any

from ctiserver.api.auth import ALL_ROLES
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest


@ROUTER.route(
    "GET",
    "/api/me",
    roles=ALL_ROLES,
    summary="The token's role and agent",
    tag="tokens",
    response=dict[str, Any],
)
async def whoami(req: ApiRequest) -> dict[str, Any]:
    p = req.principal
    return {"token_id": p.token_id, "role": p.role.value, "agent": p.agent, "name": p.name}
