"""Route metadata: every REST endpoint is declared once with its roles, models and summary.

The same declaration registers the aiohttp route, validates the request (path/query/body through pydantic),
enforces the role, serialises the reply, and feeds the OpenAPI document (``openapi.py``) — so the document
cannot drift from the code.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from ctiserver.api.auth import PRINCIPAL, Principal, Role
from ctiserver.api.errors import ApiError, forbidden, from_validation


@dataclass(frozen=True, slots=True)
class ApiRequest:
    request: web.Request
    principal: Principal
    path: Mapping[str, str]
    query: Any
    body: Any

    @property
    def app(self) -> web.Application:
        return self.request.app


Handler = Callable[[ApiRequest], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model, list[Model], or None (204)
    status: int = 200
    errors: tuple[int, ...] = ()
    binary: str | None = None  # content type of a binary reply (recording download)
    path_params: tuple[str, ...] = field(default=())

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


class Router:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: frozenset[Role] | set[Role],
        summary: str,
        tag: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        binary: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def deco(handler: Handler) -> Handler:
            params = tuple(p.strip("{}") for p in path.split("/") if p.startswith("{"))
            self.endpoints.append(
                Endpoint(
                    method.upper(),
                    path,
                    handler,
                    frozenset(roles),
                    summary,
                    tag,
                    body,
                    query,
                    response,
                    status,
                    errors,
                    binary,
                    params,
                )
            )
            return handler

        return deco

    def install(self, app: web.Application) -> None:
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, _wrap(ep))


_ADAPTERS: dict[int, TypeAdapter[Any]] = {}


def adapter(tp: Any) -> TypeAdapter[Any]:
    key = id(tp)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(tp)
    return _ADAPTERS[key]


def _wrap(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        principal: Principal | None = request.get(PRINCIPAL)
        if principal is None:  # the auth middleware guarantees one on /api/; keep the handler safe anyway
            raise ApiError(401, "unauthorized", "missing bearer token")
        if principal.role not in ep.roles:
            raise forbidden(f"role {principal.role.value!r} may not {ep.method} {ep.path}")
        query = _parse_query(ep, request)
        body = await _parse_body(ep, request)
        result = await ep.handler(ApiRequest(request, principal, dict(request.match_info), query, body))
        if isinstance(result, web.StreamResponse):
            return result
        if ep.response is None:
            return web.Response(status=204 if ep.status == 200 else ep.status)
        payload = adapter(ep.response).dump_python(result, mode="json")
        return web.json_response(payload, status=ep.status)

    handle.__name__ = ep.operation_id
    return handle


def _parse_query(ep: Endpoint, request: web.Request) -> Any:
    if ep.query is None:
        return None
    raw: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        raw[key] = values if len(values) > 1 else values[0]
    try:
        return ep.query.model_validate(raw)
    except ValidationError as exc:
        raise from_validation(exc, "query.") from None


async def _parse_body(ep: Endpoint, request: web.Request) -> Any:
    if ep.body is None:
        return None
    text = await request.text()
    if not text.strip():
        if body_required(ep.body):
            raise ApiError(422, "invalid", "a JSON body is required", "body")
        text = "{}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"the body is not JSON: {exc.msg}", "body") from None
    try:
        return ep.body.model_validate(raw)
    except ValidationError as exc:
        raise from_validation(exc, "body.") from None


def body_required(model: type[BaseModel]) -> bool:
    return any(f.is_required() for f in model.model_fields.values())
