"""``CallControl`` over ARI: REST requests out, channel state from the events WebSocket in.

Construct with anything that has ``request(method, path, params=, body=)`` (``AriLink``) and feed it every
ARI event with ``feed(event)``; calls entering the app that are not legs we dialled go to the router.
A 404 on a channel (or the channel's StasisEnd / hang-up) becomes ``ChannelGone``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Awaitable, Collection, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from ctiserver.clock import Clock
from ctiserver.control import (
    BridgeKind,
    ChannelGone,
    Collected,
    ControlError,
    DialFailed,
    DialRequest,
    PlayResult,
)
from ctiserver.control.ari_state import ChannelState, ChannelTable, DialError, PendingDial
from ctiserver.control.router import StasisRouter
from ctiserver.logs import get_logger

T = TypeVar("T")
log = get_logger(__name__)


class AriRequester(Protocol):
    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any: ...


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _channel_id(event: Mapping[str, Any]) -> str:
    return str((event.get("channel") or {}).get("id") or "")


class AriCallControl:
    def __init__(
        self, ari: AriRequester, clock: Clock, *, app: str = "ctiserver", router: StasisRouter | None = None
    ) -> None:
        self.ari = ari
        self.clock = clock
        self.app = app
        self.router = router
        self.table = ChannelTable()
        self._ids = itertools.count(1)
        self.requests = 0  # REST calls made (for benches / tests)
        # bridge ids: ``br-<app>-<run>-<n>`` — whose bridges an earlier run of this application left is told by id
        # (ARI names every application's bridges' creator ``Stasis``)
        self._bridges = f"br-{app}-"
        self._run = uuid.uuid4().hex[:8]

    # ---- events -----------------------------------------------------------------------------------------
    def feed(self, event: Mapping[str, Any]) -> None:
        """Take one ARI event (in wire order)."""
        incoming = self.table.feed(event)
        if event.get("type") == "StasisStart" and (ch := self.table.channels.get(_channel_id(event))) is not None:
            ch.connection = int(getattr(self.ari, "connections", 0))
        if incoming is not None and self.router is not None:
            self.router.dispatch(incoming)

    async def resync(self, live: Collection[str], in_app: Collection[str], connection: int = 0) -> None:
        """After the events socket came back (``connection``: its number): channels that left our app meanwhile
        are gone, legs we were dialling that answered meanwhile are ours, playbacks that ended meanwhile are
        finished. A channel that entered our app on this connection is not judged by the snapshot: it may have
        come after it (its own events tell when it goes) — a caller arriving during the resync was taken for
        gone, and the ACD dropped its offer and the call."""
        for cid, ch in list(self.table.channels.items()):
            if cid not in in_app and not (connection and ch.connection >= connection):
                self.table.mark_gone(cid)
        for cid, dial in list(self.table.dials.items()):
            if cid in in_app:
                self.table.feed({"type": "StasisStart", "channel": {"id": cid}, "args": []})
            elif cid not in live:
                self.table.dials.pop(cid, None)
                if not dial.result.done():
                    dial.result.set_exception(DialError("failed", None))
        for pb_id in list(self.table.playbacks):
            try:
                await self.ari.request("GET", f"/playbacks/{pb_id}")
            except Exception as exc:
                if _status(exc) == 404:
                    owner = pb_id.removeprefix("pb-").rsplit("-", 1)[0]
                    self.table.feed(
                        {
                            "type": "PlaybackFinished",
                            "playback": {"id": pb_id, "target_uri": f"channel:{owner}"},
                        }
                    )
        log.info(
            "call control resynced", channels=len(self.table.channels), playbacks=len(self.table.playbacks)
        )

    # ---- calls an earlier run left in our app (control/orphans.py) ------------------------------------------
    def holds(self, channel_id: str) -> bool:
        """Whether this run knows the channel (it entered our app, or is a leg we are dialling, since we started)."""
        return channel_id in self.table.channels or channel_id in self.table.dials

    def left_behind(self, bridge_id: str) -> bool:
        """Whether the bridge is one an earlier run of this application created (``create_bridge``)."""
        if not bridge_id.startswith(self._bridges):
            return False
        run, _, n = bridge_id.removeprefix(self._bridges).partition("-")  # "ctiserver-x"'s bridges are not ours
        return len(run) == len(self._run) and run != self._run and bool(n) and "-" not in n

    def reroute(self, channel: Mapping[str, Any], args: tuple[str, ...]) -> None:
        """Route a channel already in our app (``channel``: as ARI gives it) as if it entered it now with ``args``."""
        self.feed({"type": "StasisStart", "args": list(args), "channel": dict(channel)})

    async def rest(self, method: str, path: str) -> Any:
        """A bare ARI request (errors: ``ControlError``)."""
        return await self._call(method, path)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _live(self, channel_id: str) -> ChannelState:
        ch = self.table.channels.get(channel_id)
        if ch is None or ch.gone.is_set():
            raise ChannelGone(channel_id, ch.cause if ch else None)
        return ch

    async def _call(self, method: str, path: str, channel_id: str | None = None, **params: Any) -> Any:
        body = params.pop("_body", None)
        self.requests += 1
        try:
            return await self.ari.request(method, path, params=params, body=body)
        except Exception as exc:
            status = _status(exc)
            if status is None:
                raise
            if channel_id is not None and status in (404, 409):  # no such channel / not in Stasis any more
                raise ChannelGone(channel_id) from None
            raise ControlError(str(exc)) from None

    async def _until(self, ch: ChannelState, aw: Awaitable[T], limit: float | None = None) -> T | None:
        """Await ``aw`` unless the channel goes (``ChannelGone``) or ``limit`` clock seconds pass (None)."""
        main = asyncio.ensure_future(aw)
        gone = asyncio.ensure_future(ch.gone.wait())
        waits: set[asyncio.Future[Any]] = {main, gone}
        timer = asyncio.ensure_future(self.clock.sleep(limit)) if limit is not None else None
        if timer is not None:
            waits.add(timer)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in waits:
                if f is not main or not main.done():
                    f.cancel()
        if main.done() and not main.cancelled():
            return main.result()
        if gone.done() and not gone.cancelled():
            raise ChannelGone(ch.id, ch.cause)
        return None

    # ---- CallControl ------------------------------------------------------------------------------------
    async def answer(self, channel_id: str) -> None:
        self._live(channel_id)
        await self._call("POST", f"/channels/{channel_id}/answer", channel_id)

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str | None = None, barge_in: bool = False
    ) -> PlayResult:
        ch = self._live(channel_id)
        for uri in media:
            if barge_in and ch.dtmf:
                return PlayResult(completed=False, digit=ch.dtmf.popleft())
            pb_id = f"pb-{channel_id}-{next(self._ids)}"
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.table.playbacks[pb_id] = done
            try:
                await self._call(
                    "POST",
                    f"/channels/{channel_id}/play",
                    channel_id,
                    media=uri,
                    playbackId=pb_id,
                    lang=language,
                )
                digit = await self._play_wait(ch, done, barge_in)
            finally:
                self.table.playbacks.pop(pb_id, None)
            if digit is not None:
                with contextlib.suppress(ControlError):
                    await self._call("DELETE", f"/playbacks/{pb_id}")
                return PlayResult(completed=False, digit=digit)
        return PlayResult(completed=True)

    async def _play_wait(self, ch: ChannelState, done: asyncio.Future[None], barge_in: bool) -> str | None:
        """Until the playback finishes (its event pokes the channel), a barge-in digit, or a hang-up."""
        while not done.done():
            if barge_in and ch.dtmf:
                return ch.dtmf.popleft()
            ch.changed.clear()
            await self._until(ch, ch.changed.wait())
        return None

    async def stop_playback(self, channel_id: str) -> None:
        self._live(channel_id)
        prefix = f"pb-{channel_id}-"
        for pb_id in [p for p in self.table.playbacks if p.startswith(prefix)]:
            with contextlib.suppress(ControlError):
                await self._call("DELETE", f"/playbacks/{pb_id}")

    async def collect_dtmf(
        self,
        channel_id: str,
        *,
        max_digits: int,
        first_digit_timeout: float,
        inter_digit_timeout: float,
        terminators: str = "#",
    ) -> Collected:
        ch = self._live(channel_id)
        digits = ""
        while True:
            while ch.dtmf:
                d = ch.dtmf.popleft()
                if terminators and d in terminators:
                    return Collected(digits, d)
                digits += d
                if len(digits) >= max_digits:
                    return Collected(digits)
            ch.changed.clear()
            wait = inter_digit_timeout if digits else first_digit_timeout
            got = await self._until(ch, ch.changed.wait(), wait)
            if got is None and not ch.dtmf:
                return Collected(digits, None, timed_out=True)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._live(channel_id)
        await self._call("POST", f"/channels/{channel_id}/variable", channel_id, variable=name, value=value)

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        self._live(channel_id)
        try:
            reply = await self.ari.request(
                "GET", f"/channels/{channel_id}/variable", params={"variable": name}
            )
        except Exception as exc:
            if _status(exc) == 404:
                if channel_id not in self.table.channels:
                    raise ChannelGone(channel_id) from None
                return None
            raise ControlError(str(exc)) from None
        return str(reply.get("value")) if isinstance(reply, dict) and "value" in reply else None

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        self._live(channel_id)
        await self._call("POST", f"/channels/{channel_id}/moh", channel_id, mohClass=moh_class)

    async def stop_moh(self, channel_id: str) -> None:
        self._live(channel_id)
        await self._call("DELETE", f"/channels/{channel_id}/moh", channel_id)

    async def ring(self, channel_id: str) -> None:
        self._live(channel_id)
        await self._call("POST", f"/channels/{channel_id}/ring", channel_id)

    async def create_bridge(self, kind: BridgeKind = BridgeKind.MIXING, name: str = "") -> str:
        bridge_id = f"{self._bridges}{self._run}-{uuid.uuid4().hex[:12]}"
        await self._call("POST", "/bridges", type=kind.value, bridgeId=bridge_id, name=name or None)
        return bridge_id

    async def add_to_bridge(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        for c in channel_ids:
            self._live(c)
        await self._call(
            "POST",
            f"/bridges/{bridge_id}/addChannel",
            channel_ids[0] if len(channel_ids) == 1 else None,
            channel=",".join(channel_ids),
        )

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self._call("POST", f"/bridges/{bridge_id}/removeChannel", channel_id, channel=channel_id)

    async def destroy_bridge(self, bridge_id: str) -> None:
        with contextlib.suppress(ControlError):
            await self._call("DELETE", f"/bridges/{bridge_id}")

    async def dial(self, request: DialRequest) -> str:
        channel_id = f"cti-{uuid.uuid4().hex[:20]}"
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.table.dials[channel_id] = PendingDial(channel_id, request.endpoint, fut)
        caller_id = (
            f'"{request.caller_id_name}" <{request.caller_id_number}>'
            if request.caller_id_name
            else request.caller_id_number or None
        )
        variables = dict(request.variables)
        variables.update({f"PJSIP_HEADER(add,{k})": v for k, v in request.headers.items()})
        try:
            await self._call(
                "POST",
                "/channels",
                endpoint=request.endpoint,
                app=self.app,
                appArgs=",".join(request.app_args) or None,
                callerId=caller_id,
                timeout=int(request.timeout),
                channelId=channel_id,
                originator=request.originator,
                _body={"variables": variables} if variables else None,
            )
        except ControlError as exc:
            self.table.dials.pop(channel_id, None)
            raise DialFailed(request.endpoint, "unavailable") from exc
        try:
            async with asyncio.timeout(request.timeout + 10):  # Asterisk ends the dial itself at ``timeout``
                return await fut
        except DialError as exc:
            raise DialFailed(request.endpoint, exc.reason, exc.cause) from None
        except TimeoutError:
            await self._drop_dial(channel_id)
            raise DialFailed(request.endpoint, "noanswer") from None
        except asyncio.CancelledError:  # whoever wanted the leg is gone: do not leave it ringing
            await asyncio.shield(self._drop_dial(channel_id))
            raise

    async def _drop_dial(self, channel_id: str) -> None:
        self.table.dials.pop(channel_id, None)
        with contextlib.suppress(ControlError):
            await self._call("DELETE", f"/channels/{channel_id}")

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        self._live(channel_id)
        await self._call(
            "POST",
            f"/channels/{channel_id}/continue",
            channel_id,
            context=context,
            extension=extension,
            priority=priority,
        )

    async def record(self, target: str, name: str, *, fmt: str = "wav", bridge: bool = False) -> str:
        if bridge:
            await self._call("POST", f"/bridges/{target}/record", name=name, format=fmt, ifExists="overwrite")
        else:
            self._live(target)
            await self._call(
                "POST", f"/channels/{target}/record", target, name=name, format=fmt, ifExists="overwrite"
            )
        return name

    async def pause_recording(self, name: str) -> None:
        await self._call("POST", f"/recordings/live/{name}/pause")

    async def resume_recording(self, name: str) -> None:
        await self._call("DELETE", f"/recordings/live/{name}/pause")

    async def stop_recording(self, name: str) -> None:
        await self._call("POST", f"/recordings/live/{name}/stop")

    async def recording_live(self, name: str) -> bool:
        try:
            await self.ari.request("GET", f"/recordings/live/{name}")
        except Exception as exc:
            if _status(exc) == 404:
                return False
            raise ControlError(str(exc)) from None
        return True

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self._live(channel_id)
        await self._call("DELETE", f"/channels/{channel_id}", channel_id, reason=reason)

    async def wait_hangup(self, channel_id: str) -> None:
        ch = self.table.channels.get(channel_id)
        if ch is not None:
            await ch.gone.wait()
