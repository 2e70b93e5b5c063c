"""Dialling a leg over ARI *and hearing it ring* (owner: acd).

``AriCallControl.dial`` returns on answer only; the ACD's screen-pop must fire when the agent's device starts
ringing: the ARI ``Dial`` event with ``dialstatus: RINGING`` for the originated channel, or its
``ChannelStateChange`` to ``Ringing`` (trace 02: both arrive before the answer). ``ProgressControl`` wraps the
daemon's ``AriCallControl`` (every other method is delegated) and adds ``dial_with_progress``. A dial that is
cancelled (the caller hung up while the agent's phone rang) hangs the ringing leg up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from ctiserver.control import DialFailed, DialRequest
from ctiserver.control.ari import AriCallControl
from ctiserver.control.ari_state import DialError, PendingDial
from ctiserver.logs import get_logger

log = get_logger(__name__)

OnRinging = Callable[[str], Awaitable[None]]


class EventSource(Protocol):
    def on_event(self, callback: Callable[[Mapping[str, Any]], None]) -> None: ...


class ProgressControl:
    def __init__(self, control: AriCallControl, events: EventSource) -> None:
        self.control = control
        self._ringing: dict[str, asyncio.Event] = {}
        events.on_event(self._feed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.control, name)

    def _feed(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        cid = ""
        if kind == "Dial" and event.get("dialstatus") == "RINGING":
            cid = str((event.get("peer") or {}).get("id", ""))
        elif kind == "ChannelStateChange" and (event.get("channel") or {}).get("state") == "Ringing":
            cid = str((event.get("channel") or {}).get("id", ""))
        flag = self._ringing.get(cid) if cid else None
        if flag is not None:
            flag.set()

    async def dial_with_progress(self, request: DialRequest, on_ringing: OnRinging) -> str:
        control = self.control
        channel_id = f"cti-{uuid.uuid4().hex[:20]}"
        answered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        control.table.dials[channel_id] = PendingDial(channel_id, request.endpoint, answered)
        rang = self._ringing[channel_id] = asyncio.Event()
        caller_id = (
            f'"{request.caller_id_name}" <{request.caller_id_number}>'
            if request.caller_id_name
            else request.caller_id_number or None
        )
        variables = dict(request.variables)
        variables.update({f"PJSIP_HEADER(add,{k})": v for k, v in request.headers.items()})
        params = {
            "endpoint": request.endpoint,
            "app": control.app,
            "appArgs": ",".join(request.app_args) or None,
            "callerId": caller_id,
            "timeout": int(request.timeout),
            "channelId": channel_id,
            "originator": request.originator,
        }
        pop: asyncio.Task[None] | None = None
        try:
            try:
                await control.ari.request(
                    "POST", "/channels", params=params, body={"variables": variables} if variables else None
                )
            except Exception as exc:  # Asterisk: HTTP 500 "Allocation failed" for an unregistered endpoint
                control.table.dials.pop(channel_id, None)
                raise DialFailed(request.endpoint, "unavailable") from exc

            async def pop_when_ringing() -> None:
                await rang.wait()
                await on_ringing(channel_id)

            pop = asyncio.create_task(pop_when_ringing())
            try:
                async with asyncio.timeout(request.timeout + 10):  # Asterisk ends the dial itself at timeout
                    result = await answered
            except DialError as exc:
                raise DialFailed(request.endpoint, exc.reason, exc.cause) from None
            except TimeoutError:
                await self._drop(channel_id)
                raise DialFailed(request.endpoint, "noanswer") from None
            rang.set()  # an auto-answering phone may never report ringing: pop before the answer anyway
            await pop
            return result
        except asyncio.CancelledError:
            await asyncio.shield(self._drop(channel_id))
            raise
        finally:
            self._ringing.pop(channel_id, None)
            if pop is not None and not pop.done():
                pop.cancel()

    async def _drop(self, channel_id: str) -> None:
        self.control.table.dials.pop(channel_id, None)
        with contextlib.suppress(Exception):
            await self.control.ari.request("DELETE", f"/channels/{channel_id}")
        log.info("dial abandoned", channel=channel_id)
