"""Errors as JSON ``{code, message, field}``; one middleware maps domain exceptions to HTTP statuses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ctiserver.logs import get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def not_found(what: str, field: str | None = None) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found", field)


def unavailable(service: str) -> ApiError:
    return ApiError(503, "unavailable", f"the {service} service is not running in this daemon")


def forbidden(message: str = "this token's role may not do that") -> ApiError:
    return ApiError(403, "forbidden", message)


def from_validation(exc: ValidationError, prefix: str = "") -> ApiError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    return ApiError(422, "invalid", str(err["msg"]), field)


# Domain exceptions from other areas: mapped by class name so api/ does not import every area eagerly.
DOMAIN_STATUS: dict[str, tuple[int, str]] = {
    "LookupError": (404, "not_found"),
    "KeyError": (404, "not_found"),
    "ChannelGone": (409, "channel_gone"),
    "DialFailed": (409, "dial_failed"),
    "ControlError": (502, "pbx_error"),
    "IllegalTransition": (409, "illegal_transition"),
    "InvalidTransition": (409, "illegal_transition"),
    "ScriptError": (422, "invalid_script"),
    "ScriptInvalid": (422, "invalid_script"),
    "InvalidRequest": (409, "invalid_request"),
    "PbxRefused": (502, "pbx_error"),
    "UnknownAgent": (404, "not_found"),
    "UnknownQueue": (404, "not_found"),
    "UnknownRecording": (404, "not_found"),
    "RecordingRefused": (409, "recording_refused"),
    "IllegalRecordingTransition": (409, "illegal_transition"),
    "ValidationFailed": (422, "invalid"),
    "CrmUnavailable": (502, "crm_unavailable"),
    "PermissionError": (403, "forbidden"),
    "ValueError": (422, "invalid"),
}


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    body = ErrorBody(code=err.code, message=err.message, field=err.field).model_dump(mode="json")
    return web.json_response(body, status=err.status, headers=headers)


def map_exception(exc: BaseException) -> ApiError | None:
    for klass in type(exc).__mro__:
        hit = DOMAIN_STATUS.get(klass.__name__)
        if hit is not None:
            status, code = hit
            return ApiError(status, code, str(exc) or klass.__name__, getattr(exc, "field", None))
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except ValidationError as exc:
        return error_response(from_validation(exc))
    except json.JSONDecodeError as exc:
        return error_response(ApiError(400, "bad_json", f"the body is not JSON: {exc.msg}", "body"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status, "http_error")
        return error_response(ApiError(exc.status, code, exc.reason), headers=_allow(exc))
    except Exception as exc:
        mapped = map_exception(exc)
        if mapped is not None:
            return error_response(mapped)
        log.exception("unhandled error in API handler", path=request.path)
        return error_response(ApiError(500, "internal", "internal error (logged)"))


def _allow(exc: web.HTTPException) -> dict[str, str] | None:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else None
