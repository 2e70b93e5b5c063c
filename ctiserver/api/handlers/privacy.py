"""``POST /api/privacy/erase``: a person's right to erasure by phone number (``ctiserver/privacy.py``); admins."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.api.app import CLOCK, LOCATOR, service
from ctiserver.api.auth import Role
from ctiserver.api.errors import ApiError
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.dialer import default_region
from ctiserver.api.routing import ApiRequest
from ctiserver.privacy.erase import NotANumber, erase_number
from ctiserver.privacy.memory import InMemory
from ctiserver.recording.service import RecordingService
from ctiserver.store.database import Database


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=64, description="the person's phone number, any usual form")
    keep_off_lists: bool = Field(True, description="put the number on the global do-not-call list")


@ROUTER.route(
    "POST",
    "/api/privacy/erase",
    roles=frozenset({Role.ADMIN}),
    summary="Erase a person's data by phone number: their calls' personal data, recordings, dialler contacts, "
    "CRM contact and interactions; the number goes on the global do-not-call list unless keep_off_lists is false",
    tag="privacy",
    body=ErasureIn,
    response=dict[str, Any],
)
async def erase(req: ApiRequest) -> dict[str, Any]:
    body: ErasureIn = req.body
    db = service(req, Database, "database")
    recordings = req.app[LOCATOR].maybe(RecordingService)
    store = recordings.store if recordings is not None else None
    now = req.app[CLOCK].now()
    memory = InMemory.of(req.app[LOCATOR].maybe)
    await memory.settle()
    try:
        region = default_region(req)
        done, forget = await erase_number(db.sessions, body.number, region, now, store, body.keep_off_lists)
    except NotANumber as exc:
        raise ApiError(422, "invalid", str(exc), "body.number") from None
    going_on = await memory.forget(forget)  # at once; other daemons read it (``follow.py``)
    return {**asdict(done), "calls_going_on": len(going_on)}  # cleared when they end (``on_the_line.py``)
