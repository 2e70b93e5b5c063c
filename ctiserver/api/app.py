"""The aiohttp application: middlewares (errors, auth), the REST routes, the WebSocket hub, ``/health``,
``/metrics``, ``/api/openapi.json`` and the static console (``ctiserver/web/static`` at ``/``).

Everything but the console's static files needs a bearer token: ``/health`` any role's, ``/metrics`` a
``monitor``, supervisor or admin token's (it names queues and campaigns and carries the day's figures), the
OpenAPI document and ``/api/*`` an API role's (``monitor`` tokens get ``403`` there)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiohttp import web

from ctiserver.api.auth import ALL_ROLES, METRICS_ROLES, PRINCIPAL, Authenticator, Principal, Role
from ctiserver.api.errors import ApiError, error_middleware, error_response, forbidden, unavailable
from ctiserver.api.metrics import Metrics
from ctiserver.api.openapi import build_openapi
from ctiserver.api.routing import ApiRequest
from ctiserver.api.ws import WsHub
from ctiserver.clock import Clock

T = TypeVar("T")

STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"
SYSTEM = ("/health", "/metrics")  # outside /api/, behind a token all the same


class Locator(Protocol):
    def maybe(self, kind: type[T]) -> T | None: ...


LOCATOR = web.AppKey("locator", Locator)
AUTH = web.AppKey("auth", Authenticator)
HUB = web.AppKey("hub", WsHub)
METRICS = web.AppKey("metrics", Metrics)
CLOCK = web.AppKey("clock", Clock)
OPENAPI = web.AppKey("openapi", dict)


def service(req: ApiRequest | web.Request, kind: type[T], name: str) -> T:
    app = req.app
    found = app[LOCATOR].maybe(kind)
    if found is None:
        raise unavailable(name)
    return found


def _client(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return str(peer[0]) if peer else "unknown"


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    if request.path == "/api/ws":
        return request.query.get("access_token") or None
    return None


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    path = request.path
    if not path.startswith("/api/") and path not in SYSTEM:
        return await handler(request)  # the console's static files: the page asks for a token itself
    auth = request.app[AUTH]
    client = _client(request)
    wait = auth.limiter.blocked_for(client)
    if wait > 0:
        err = ApiError(429, "too_many_attempts", "too many failed authentications; retry later")
        return error_response(err, headers={"Retry-After": str(int(wait) + 1)})
    token = _token(request)
    principal = await auth.verify(token) if token else None
    if principal is None:
        if token is not None:  # a wrong guess counts; a request without any token does not
            auth.limiter.failed(client)
        request.app[METRICS].auth_failures.inc()
        message = "missing bearer token" if token is None else "invalid or revoked token"
        return error_response(ApiError(401, "unauthorized", message), headers={"WWW-Authenticate": "Bearer"})
    request[PRINCIPAL] = principal
    return await handler(request)


def cors_middleware(origins: tuple[str, ...]) -> Any:
    """Answer preflights and add CORS headers for the configured origins only (none by default)."""
    allowed = set(origins)

    @web.middleware
    async def cors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        if origin not in allowed:
            return await handler(request)
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
            "Vary": "Origin",
        }
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=headers)
        response = await handler(request)
        response.headers.update(headers)
        return response

    return cors


def build_app(
    locator: Locator,
    authenticator: Authenticator,
    hub: WsHub,
    metrics: Metrics,
    clock: Clock,
    *,
    node_id: str = "ctiserver",
    static_dir: Path | None = STATIC_DIR,
    cors_origins: tuple[str, ...] = (),
) -> web.Application:
    from ctiserver.api.handlers import ROUTER

    middlewares = [error_middleware, auth_middleware]
    if cors_origins:
        middlewares.insert(0, cors_middleware(cors_origins))
    app = web.Application(middlewares=middlewares, client_max_size=2 * 1024 * 1024)
    app[LOCATOR] = locator
    app[AUTH] = authenticator
    app[HUB] = hub
    app[METRICS] = metrics
    app[CLOCK] = clock
    app[OPENAPI] = build_openapi(ROUTER.endpoints, title="ctiserver")
    _install_system(app, node_id)
    ROUTER.install(app)
    app.router.add_get("/api/ws", hub.handle)
    if static_dir is not None and static_dir.is_dir():
        app.router.add_get("/", _index(static_dir))
        app.router.add_static("/", static_dir, follow_symlinks=False)
    return app


def _index(static_dir: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def index(_: web.Request) -> web.StreamResponse:
        return web.FileResponse(static_dir / "index.html")

    return index


def _allow(request: web.Request, roles: frozenset[Role]) -> None:
    principal: Principal = request[PRINCIPAL]
    if principal.role not in roles:
        raise forbidden(f"role {principal.role.value!r} may not GET {request.path}")


def _install_system(app: web.Application, node_id: str) -> None:
    async def openapi(request: web.Request) -> web.Response:
        _allow(request, ALL_ROLES)
        return web.json_response(request.app[OPENAPI])

    async def health(request: web.Request) -> web.Response:
        checks = request.app[METRICS].health_checks()  # any role: a probe's monitor token as well
        status = "ok" if all(checks.values()) else "degraded"
        return web.json_response({"status": status, "node": node_id, "checks": checks})

    async def metrics(request: web.Request) -> web.Response:
        _allow(request, METRICS_ROLES)
        body, content_type = request.app[METRICS].render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
