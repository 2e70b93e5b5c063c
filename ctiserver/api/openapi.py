"""The OpenAPI 3.1 document, generated from the route declarations and their pydantic models."""

from __future__ import annotations

from typing import Any

from ctiserver.api.errors import ErrorBody
from ctiserver.api.routing import Endpoint, adapter, body_required

_REF = "#/components/schemas/{model}"

_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or invalid bearer token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Invalid input (the field is named)",
    429: "Too many failed authentications",
    502: "The PBX or CRM failed",
    503: "The service behind this endpoint is not running",
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        schema = adapter(tp).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components[name] = sub
        title = getattr(tp, "__name__", None)
        if isinstance(tp, type) and title and schema.get("type") == "object":
            self.components[title] = schema
            return {"$ref": _REF.format(model=title)}
        return schema


def build_openapi(
    endpoints: list[Endpoint], *, title: str = "ctiserver", version: str = "1"
) -> dict[str, Any]:
    schemas = _Schemas()
    error_ref = schemas.ref(ErrorBody, "serialization")
    paths: dict[str, Any] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "operationId": ep.operation_id,
            "summary": ep.summary,
            "tags": [ep.tag],
            "security": [{"bearer": []}],
            "description": "Roles: " + ", ".join(sorted(r.value for r in ep.roles)),
        }
        params: list[dict[str, Any]] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for p in ep.path_params
        ]
        if ep.query is not None:
            qschema = ep.query.model_json_schema(ref_template=_REF)
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {
                "required": body_required(ep.body),
                "content": {"application/json": {"schema": schemas.ref(ep.body, "validation")}},
            }
        responses: dict[str, Any] = {}
        if ep.binary is not None:
            responses[str(ep.status)] = {
                "description": "OK",
                "content": {ep.binary: {"schema": {"type": "string", "format": "binary"}}},
            }
        elif ep.response is None:
            responses[str(ep.status if ep.status != 200 else 204)] = {"description": "Done"}
        else:
            responses[str(ep.status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": schemas.ref(ep.response, "serialization")}},
            }
        codes = {400, 401, 403, 422, 429, 503, *ep.errors}
        if ep.path_params:
            codes.add(404)
        for code in sorted(codes):
            responses[str(code)] = {
                "description": _ERROR_TEXT.get(code, "Error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        op["responses"] = responses
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": "ctiserver REST API (see docs/api.md)"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
