"""Asyncio ARI client: typed REST (``AriRest``) over ``HttpPool`` and the events WebSocket (aiohttp), kept open.

* The WebSocket (``/ari/events?app=<app>``) is what registers the Stasis application: when it drops — Asterisk
  restarting closes it without a close frame — the client reconnects with capped, jittered back-off, which
  re-registers the app. ``reconnect()`` forces a fresh registration now (the node calls it when AMI reports
  ``FullyBooted``: Asterisk restarted and forgot the app).
* After every (re)connection the client lists the live channels (``GET /channels``) and the app's channels
  (``GET /applications/<app>``) and hands them to ``on_resync`` callbacks, so no call in Stasis is forgotten.
* Events are delivered in wire order to ``on_event(type or '*')`` callbacks as typed events (``parse_event``)
  and to ``on_raw`` callbacks as the decoded JSON objects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from ctiserver.clock import Clock, SystemClock
from ctiserver.config import AriConfig
from ctiserver.logs import get_logger
from ctiserver.pbx.ari.events import AriEvent, parse_event
from ctiserver.pbx.ari.http import HttpError, HttpPool
from ctiserver.pbx.ari.resources import Channel
from ctiserver.pbx.ari.rest import AriError, AriRest
from ctiserver.pbx.link import Backoff, Link, LinkState
from ctiserver.pbx.tls import for_url

log = get_logger(__name__)

EventCallback = Callable[[AriEvent], None]
RawCallback = Callable[[Mapping[str, Any]], None]
HEARTBEAT = 20.0  # WebSocket ping interval: a dead TCP link is noticed within ~2 of these


@dataclass(frozen=True, slots=True)
class AriResync:
    """What Asterisk had live right after a (re)connection."""

    connection: int  # 1 for the first connection, 2 after the first reconnect...
    channels: tuple[Channel, ...]  # every live channel
    # the ones subscribed to our application (GET /applications): in its Stasis, but also every leg it originated
    # from the Originate on — still ringing, and for a Local channel both halves (resource_channels.c)
    app_channel_ids: frozenset[str]
    app: str = ""  # our application's name

    @property
    def in_stasis(self) -> tuple[Channel, ...]:
        """The channels that run ``Stasis(<our app>,…)`` now (the snapshot's application): a subscribed leg that
        still rings is not in it."""
        return tuple(c for c in self.channels if c.id in self.app_channel_ids and _runs_stasis(c, self.app))


def _runs_stasis(channel: Channel, app: str) -> bool:
    plan = channel.dialplan
    return plan.app_name.lower() == "stasis" and (not app or plan.app_data.split(",", 1)[0] == app)


ResyncCallback = Callable[[AriResync], Awaitable[None] | None]


class AriClient(AriRest):
    def __init__(
        self,
        config: AriConfig,
        clock: Clock | None = None,
        *,
        rng: random.Random | None = None,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.link = Link(f"ari:{config.url}", None)
        self.connected = asyncio.Event()
        self.connections = 0
        self.events_received = 0
        self.last_error: str | None = None
        self._heartbeat = heartbeat
        self._base = config.url.rstrip("/")
        self._server_name: str | None = None  # the name TLS checks the certificate for (https:// only)
        self._handlers: dict[str, list[EventCallback]] = {}
        self._any: list[EventCallback] = []
        self._raw: list[RawCallback] = []
        self._on_resync: list[ResyncCallback] = []
        self._session: aiohttp.ClientSession | None = None
        self._http: HttpPool | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started: asyncio.Future[None] | None = None
        self._kick = asyncio.Event()
        self._closing = False
        self._backoff = Backoff(config.reconnect_min, config.reconnect_max, rng)

    # ------------------------------------------------------------------------------------------ public
    def on_event(self, kind: str, callback: EventCallback) -> Callable[[], None]:
        """Typed events of type ``kind`` (``'*'`` = all), in wire order. Returns an unsubscribe function."""
        bucket = self._any if kind == "*" else self._handlers.setdefault(kind, [])
        bucket.append(callback)
        return lambda: bucket.remove(callback) if callback in bucket else None

    def on_raw(self, callback: RawCallback, *, first: bool = False) -> None:
        """Every event as its decoded JSON object (for code that keeps its own model of ARI). ``first``: before
        the callbacks already registered (a probe that time-stamps arrivals)."""
        if first:
            self._raw.insert(0, callback)
        else:
            self._raw.append(callback)

    def on_resync(self, callback: ResyncCallback) -> None:
        """``callback(AriResync)`` after every (re)connection of the events WebSocket (sync or async)."""
        self._on_resync.append(callback)

    def reconnect(self, reason: str = "requested") -> None:
        """Drop the events WebSocket and open it again at once (re-registers the application)."""
        log.info("ari reconnect", reason=reason)
        self._kick.set()
        ws = self._ws
        if ws is not None and not ws.closed:
            self._spawn(ws.close(), "close")

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One REST call below ``/ari``; returns the decoded JSON (None for 204). ``AriError`` on failure."""
        http = self._http
        if http is None or self._closing:
            raise AriError(0, "ARI client not started or closed", method=method, path=path)
        query = {k: _query_value(v) for k, v in params.items() if v is not None} if params else None
        # the body as bytes (orjson), the reply read as bytes, over ``HttpPool`` (see there why not aiohttp)
        try:
            reply = await http.request(method, path, query, None if body is None else orjson.dumps(body))
        except HttpError as exc:
            raise AriError(0, f"ARI unreachable: {exc}", method=method, path=path) from None
        except TimeoutError:
            raise AriError(
                0, f"ARI timeout after {self.config.request_timeout:g} s", method=method, path=path
            ) from None
        raw = reply.body
        if reply.status >= 300:
            text = raw.decode("utf-8", "replace")
            raise AriError(reply.status, _error_message(text, reply.reason), method=method, path=path)
        if not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except ValueError:
            raise AriError(reply.status, "response is not JSON", method=method, path=path) from None

    async def __aenter__(self) -> AriClient:
        """Open the session and the events WebSocket; wait for the first attempt. Bad credentials (401/403)
        raise ``AriError``; an unreachable Asterisk does not (the client keeps trying)."""
        await self.start()
        assert self._started is not None
        try:
            await self._started
        except AriError:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._runner is not None:
            return
        pair = f"{self.config.username}:{self.config.password.get_secret_value()}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        tls, name = for_url(self._base, self.config.tls, "ARI")
        connector = aiohttp.TCPConnector(ssl=tls) if tls is not None else None
        self._session = aiohttp.ClientSession(headers=headers, timeout=timeout, connector=connector)  # events
        self._server_name = name
        self._http = HttpPool(
            self._base, headers, timeout=self.config.request_timeout, ssl_context=tls, server_hostname=name
        )
        self._started = asyncio.get_running_loop().create_future()
        self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"cti:{self.link.name}")

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._http is not None:
            self._http.close()
        self.connected.clear()
        self.link.to(LinkState.CLOSED)

    # ------------------------------------------------------------------------------------------ events link
    async def _run(self) -> None:
        assert self._session is not None
        url = self._base.replace("http", "ws", 1) + "/events"
        params = {"app": self.config.app, "subscribeAll": "true" if self.config.subscribe_all else "false"}
        while not self._closing:
            self.link.to(LinkState.CONNECTING)
            self._kick.clear()
            try:
                ws = await self._session.ws_connect(
                    url, params=params, heartbeat=self._heartbeat, server_hostname=self._server_name
                )
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in (401, 403):
                    error = AriError(exc.status, f"ARI refused user {self.config.username!r}", path="/events")
                    if self._failed(str(error), error):
                        return
                else:
                    self._failed(f"events WebSocket refused: HTTP {exc.status}")
            except (aiohttp.ClientSSLError, ssl.SSLError) as exc:  # the certificate, or https against http
                self._failed(f"cannot connect: {type(exc).__name__}: {exc} (TLS: see pbx.ari.tls and the url)")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self._failed(f"cannot connect: {type(exc).__name__}: {exc}")
            else:
                await self._session_loop(ws)
            if self._closing:
                return
            if not self._kick.is_set():
                await self._wait_kick(self._backoff.next_delay())

    async def _session_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.connections += 1
        self.link.to(LinkState.UP)
        self.connected.set()
        self._backoff.reset()
        self.last_error = None
        log.info(
            "ari events connected", link=self.link.name, app=self.config.app, connections=self.connections
        )
        if self._started is not None and not self._started.done():
            self._started.set_result(None)
        self._spawn(self._filter_events(), "event-filter")
        self._spawn(self._resync(self.connections), "resync")
        try:
            n = 0
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._deliver(msg.data)
                    n += 1
                    if n % 64 == 0:
                        await asyncio.sleep(0)  # a burst of events must not starve REST callers
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    self._deliver(msg.data.decode("utf-8", "replace"))
                elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.last_error = f"events WebSocket error: {exc}"
        finally:
            self._ws = None
            self.connected.clear()
            with contextlib.suppress(Exception):
                await ws.close()
            if not self._closing:
                self.link.to(LinkState.DOWN)
                log.warning(
                    "ari events disconnected", link=self.link.name, reason=self.last_error or "closed"
                )

    async def _filter_events(self) -> None:
        """Ask Asterisk not to send the event types we never read (``drop_events``); older versions (< 16.3)
        refuse, and we then simply receive them."""
        if not self.config.drop_events:
            return
        body = {"disallowed": [{"type": t} for t in self.config.drop_events]}
        try:
            await self.request("PUT", f"/applications/{quote(self.config.app, safe='')}/eventFilter", body=body)
        except AriError as exc:
            log.info("ari event filter not set; all events are received", error=str(exc), link=self.link.name)

    def _failed(self, reason: str, error: AriError | None = None) -> bool:
        """A connection attempt failed; True when ``error`` was handed to ``__aenter__`` (stop trying)."""
        self.last_error = reason
        self.link.to(LinkState.DOWN)
        log.warning("ari events connection failed", link=self.link.name, reason=reason)
        started = self._started
        if started is not None and not started.done():
            if error is not None:
                started.set_exception(error)
                return True
            started.set_result(None)
        return False

    async def _wait_kick(self, delay: float) -> None:
        kick = asyncio.ensure_future(self._kick.wait())
        sleep = asyncio.ensure_future(self.clock.sleep(delay))
        try:
            await asyncio.wait({kick, sleep}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            kick.cancel()
            sleep.cancel()

    def _deliver(self, text: str) -> None:
        self.events_received += 1
        try:
            obj = orjson.loads(text)  # orjson: the daemon decodes every ARI event; json was a visible cost
        except ValueError:
            log.warning("ari event is not JSON", size=len(text))
            return
        if not isinstance(obj, dict):
            return
        for raw_cb in self._raw:
            try:
                raw_cb(obj)
            except Exception:
                log.exception("ari raw event handler failed", type=obj.get("type"))
        if not (self._any or self._handlers):
            return
        event = parse_event(obj)
        if event.type == "ApplicationReplaced":
            log.error("ari application taken over by another connection", app=self.config.app)
        for cb in (*self._handlers.get(event.type, ()), *self._any):
            try:
                cb(event)
            except Exception:
                log.exception("ari event handler failed", type=event.type)

    async def _resync(self, connection: int) -> None:
        """List what is live; retried (a booting Asterisk may refuse for a moment) while this link lasts."""
        delay = self.config.reconnect_min
        while True:
            try:
                channels = await self.list_channels()
                try:
                    app_ids = frozenset((await self.get_application(self.config.app)).channel_ids)
                except AriError as exc:
                    if exc.status == 0 or exc.status >= 500:
                        raise
                    app_ids = frozenset()  # 404: the app has no subscriptions yet
                break
            except AriError as exc:
                log.warning("ari resync failed; retrying", error=str(exc), delay=delay)
                await self.clock.sleep(delay)
                delay = min(delay * 2, self.config.reconnect_max)
                if self.connections != connection or not self.connected.is_set():
                    return  # a newer connection does its own resync
        resync = AriResync(connection, tuple(channels), app_ids, self.config.app)
        for cb in list(self._on_resync):
            try:
                result = cb(resync)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("ari resync callback failed")

    def _spawn(self, coro: Any, what: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"cti:{self.link.name}:{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _query_value(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def _error_message(text: str, reason: str | None) -> str:
    try:
        obj = json.loads(text)
    except ValueError:
        return text.strip()[:200] or (reason or "")
    if isinstance(obj, dict):
        for key in ("message", "error"):
            if isinstance(obj.get(key), str):
                return str(obj[key])
    return text.strip()[:200]
