"""Asyncio AMI client: login (plain/MD5 challenge), ActionID → Future, event dispatch, keepalive, reconnect.

Guarantees, each covered by tests/pbx/test_ami_client.py against a real socket:

* An action in flight when the link drops fails with ``AmiLinkLost`` and is **never** sent again (panoramisk
  re-sends such actions after reconnect: a re-dialled customer). Actions sent while the link is down wait for
  it up to their timeout, then fail with ``AmiNotConnected`` — not sent, so nothing ran.
* Responses are matched in the reader, before any event is dispatched; events go through a queue drained by
  a separate task that yields regularly, so a slow event consumer never delays an action's response. The
  queue is bounded (``max_backlog``): when consumers fall that far behind, the reader stops reading until they
  are back under half of it (memory stays bounded; answers wait meanwhile; ``read_pauses`` counts it).
* Event subscriptions are a dict lookup by name (``'*'`` for all), callbacks are called in wire order.
* ``EventList: start`` responses collect their events up to the ``...Complete`` event: one ``AmiEventList``.
* Reconnect with capped exponential back-off and jitter; ``on_reconnect`` callbacks run after every login
  (the first included) so owners of state can resync (``CoreShowChannels``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import itertools
import random
import secrets
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from ctiserver.clock import Clock, SystemClock
from ctiserver.config import AmiConfig
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.codec import AmiDecoder, Headers, encode_action, pairs_of
from ctiserver.pbx.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiLinkLost,
    AmiNotConnected,
    AmiTimeout,
)
from ctiserver.pbx.ami.messages import AmiBanner, AmiEvent, AmiEventList, AmiProtocolError, AmiResponse
from ctiserver.pbx.link import Backoff, Link, LinkState
from ctiserver.pbx.tls import client_context, warn_unverified

log = get_logger(__name__)

EventCallback = Callable[[AmiEvent], None]
LinkCallback = Callable[[], Awaitable[None] | None]
Result = AmiResponse | AmiEventList

READ_SIZE = 1 << 16
YIELD_EVERY = 64  # events dispatched between two yields to the loop
BACKLOG_WARN = 10_000  # undispatched events before a warning (doubling after each one)


class _Pending:
    __slots__ = ("action", "action_id", "events", "future", "response")

    def __init__(self, action: str, action_id: str, future: asyncio.Future[Result]) -> None:
        self.action = action
        self.action_id = action_id
        self.future = future
        self.response: AmiResponse | None = None  # set when an event list started
        self.events: list[AmiEvent] = []


class AmiClient:
    def __init__(
        self,
        config: AmiConfig,
        clock: Clock | None = None,
        *,
        name: str = "ami",
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.link = Link(f"{name}:{config.host}:{config.port}", self._state_changed)
        self.connected = asyncio.Event()
        self.banner: str | None = None
        self.last_error: str | None = None
        self.logins = 0
        self.events_received = 0
        self._handlers: dict[str, list[EventCallback]] = {}
        self._any: list[EventCallback] = []
        self._on_reconnect: list[LinkCallback] = []
        self._on_disconnect: list[LinkCallback] = []
        self._pending: dict[str, _Pending] = {}
        self._lists: dict[str, _Pending] = {}
        self._queue: deque[AmiEvent] = deque()
        self._backlog_warn = BACKLOG_WARN
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()  # clear while reading is paused on a full backlog
        self._drained.set()
        self.read_pauses = 0
        self._writer: asyncio.StreamWriter | None = None
        self._tls = client_context(config.tls, "AMI") if config.tls.enabled else None
        if self._tls is not None:
            warn_unverified(config.tls, "AMI", config.host)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._closing = False
        self._prefix = f"{name}-{secrets.token_hex(3)}-"
        self._seq = itertools.count(1)
        self._backoff = Backoff(config.reconnect_min, config.reconnect_max, rng)

    # ------------------------------------------------------------------ public API
    def on_event(self, name: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event named ``name`` (``'*'``: every event). Returns an
        unsubscribe function. Callbacks are synchronous and must be quick; they run in wire order."""
        bucket = self._any if name == "*" else self._handlers.setdefault(name, [])
        bucket.append(callback)
        return lambda: bucket.remove(callback) if callback in bucket else None

    def on_reconnect(self, callback: LinkCallback) -> None:
        """Run ``callback()`` (sync or async) after every successful login, the first one included."""
        self._on_reconnect.append(callback)

    def on_disconnect(self, callback: LinkCallback) -> None:
        self._on_disconnect.append(callback)

    @property
    def backlog(self) -> int:
        """Events received and not yet dispatched."""
        return len(self._queue)

    async def action(
        self,
        name: str,
        headers: Headers = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - measured on the injected clock
        check: bool = False,
    ) -> Result:
        """Send an action and wait for its response (or its whole event list). ``check=True`` raises
        ``AmiActionError`` on ``Response: Error``."""
        timeout = self.config.action_timeout if timeout is None else timeout
        if not self.connected.is_set():
            if self._closing or not await self._wait(self.connected.wait(), timeout):
                where = f"{self.config.host}:{self.config.port}"
                raise AmiNotConnected(f"AMI link to {where} is not up; {name} not sent")
        result = await self._send(name, headers, timeout)
        response = result.response if isinstance(result, AmiEventList) else result
        if check and not response.ok:
            raise AmiActionError(name, response)
        return result

    async def start(self) -> None:
        if self._supervisor is not None:
            return
        loop = asyncio.get_running_loop()
        self._started = loop.create_future()
        self._supervisor = loop.create_task(self._run(), name=f"cti:{self.link.name}")
        self._spawn(self._dispatch_loop(), "dispatch")

    async def __aenter__(self) -> AmiClient:
        """Start and wait for the first connection attempt. A refused login raises ``AmiAuthError`` (a
        configuration error); an unreachable Asterisk does not: the client keeps trying in the background."""
        await self.start()
        assert self._started is not None
        try:
            await self._started
        except AmiAuthError:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closing:
            return
        if self.connected.is_set():
            with contextlib.suppress(Exception):
                await self._send("Logoff", (), min(1.0, self.config.action_timeout))
        self._closing = True
        tasks = [t for t in (self._supervisor, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._link_lost(self._writer)
        self.link.to(LinkState.CLOSED)

    # ------------------------------------------------------------------ connection life
    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """TCP, or TLS (``tls.enabled``: the handshake and the certificate check are part of the connect)."""
        cfg = self.config
        if self._tls is None:
            return await asyncio.open_connection(cfg.host, cfg.port)
        name = cfg.tls.server_name or cfg.host
        return await asyncio.open_connection(cfg.host, cfg.port, ssl=self._tls, server_hostname=name)

    async def _run(self) -> None:
        while not self._closing:
            self.link.to(LinkState.CONNECTING)
            try:
                opened = await self._wait(self._open(), self.config.connect_timeout)
                if opened is None:
                    raise TimeoutError(f"connect timeout after {self.config.connect_timeout:g} s")
                reader, writer = opened
            except ssl.SSLError as exc:  # the certificate, or TLS against a plain port (or the reverse)
                self._attempt_failed(f"cannot connect: {exc} (TLS: see pbx.ami.tls and the port)")
            except OSError as exc:
                self._attempt_failed(f"cannot connect: {exc}")
            except TimeoutError as exc:
                self._attempt_failed(str(exc))
            else:
                try:
                    await self._session(reader, writer)
                    banner = self.banner or ""
                    if banner.startswith("Asterisk Call Manager/"):
                        self._attempt_failed("connection closed by Asterisk")
                    else:
                        self._attempt_failed(f"not an AMI server (first line {banner[:60]!r})")
                except AmiAuthError as exc:
                    if self._attempt_failed(str(exc), auth=exc):
                        return  # refused at start-up: __aenter__ raises it, nothing to retry
                except (OSError, TimeoutError, AmiLinkLost, AmiTimeout, AmiNotConnected) as exc:
                    banner = self.banner or ""
                    if banner and not banner.startswith("Asterisk Call Manager/"):
                        self._attempt_failed(f"not an AMI server (first line {banner[:60]!r})")
                    else:
                        self._attempt_failed(f"session ended: {exc}")
                finally:
                    self._link_lost(writer)
            if self._closing:
                return
            await self.clock.sleep(self._backoff.next_delay())

    def _attempt_failed(self, reason: str, auth: AmiAuthError | None = None) -> bool:
        """Record a failed/ended attempt; True when an auth error was handed to ``__aenter__``."""
        self.last_error = reason
        self._link_lost(self._writer)
        if self.link.state is not LinkState.DOWN:
            self.link.to(LinkState.DOWN)
        log.warning("ami link down", link=self.link.name, reason=reason)
        started = self._started
        if started is not None and not started.done():
            if auth is not None:
                started.set_exception(auth)
                return True
            started.set_result(None)
        return False

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.link.to(LinkState.AUTHENTICATING)
        read_task = self._spawn(self._read_loop(reader, writer), "reader")
        keepalive: asyncio.Task[None] | None = None
        try:
            await self._login()
            await self._filter_events()
            self.logins += 1
            self._backoff.reset()
            self.last_error = None
            self.link.to(LinkState.UP)
            self.connected.set()
            log.info("ami link up", link=self.link.name, banner=self.banner, logins=self.logins)
            if self._started is not None and not self._started.done():
                self._started.set_result(None)
            self._fire(self._on_reconnect)
            if self.config.keepalive_interval > 0:
                keepalive = self._spawn(self._keepalive(writer), "keepalive")
            await read_task
        finally:
            if keepalive is not None:
                keepalive.cancel()
            read_task.cancel()
            writer.close()

    async def _login(self) -> None:
        cfg = self.config
        secret = cfg.secret.get_secret_value()
        timeout = cfg.connect_timeout
        if cfg.auth == "md5":
            challenge = await self._send("Challenge", {"AuthType": "MD5"}, timeout)
            token = challenge.get("Challenge") if isinstance(challenge, AmiResponse) else None
            if not token:
                raise AmiAuthError(f"AMI MD5 challenge refused by {cfg.host}:{cfg.port}")
            key = hashlib.md5((token + secret).encode("utf-8"), usedforsecurity=False).hexdigest()
            fields = {"AuthType": "MD5", "Username": cfg.username, "Key": key, "Events": "on"}
        else:
            fields = {"Username": cfg.username, "Secret": secret, "Events": "on"}
        reply = await self._send("Login", fields, timeout)
        response = reply.response if isinstance(reply, AmiEventList) else reply
        if not response.ok:
            raise AmiAuthError(
                f"AMI login as {cfg.username!r} refused by {cfg.host}:{cfg.port}: {response.message or '?'}"
            )

    async def _filter_events(self) -> None:
        """``event_filters`` as ``Filter`` actions; refused (no ``system`` class, an older Asterisk) = unfiltered."""
        for criteria, pattern in self.config.event_filters:
            fields = {"Operation": "Add", "Filter": pattern} | ({"MatchCriteria": criteria} if criteria else {})
            reply = await self._send("Filter", fields, self.config.connect_timeout)
            response = reply.response if isinstance(reply, AmiEventList) else reply
            if not response.ok:
                log.info("ami event filter refused; those events are received", link=self.link.name,
                         filter=pattern, reason=response.message or "?")

    async def _keepalive(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await self.clock.sleep(self.config.keepalive_interval)
            try:
                await self._send("Ping", (), self.config.action_timeout)
            except AmiTimeout:
                log.warning("ami keepalive timed out; reconnecting", link=self.link.name)
                writer.close()
                return

    def _link_lost(self, writer: asyncio.StreamWriter | None) -> None:
        """The session of ``writer`` is over: fail what is in flight (never re-sent). No-op if stale."""
        if writer is not self._writer:
            return
        self.connected.clear()
        if writer is not None:
            writer.close()
            self._writer = None
        pending, self._pending = self._pending, {}
        self._lists.clear()
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(AmiLinkLost(p.action, p.action_id))
        if self.link.state is LinkState.UP:
            self.link.to(LinkState.DOWN)
            self._fire(self._on_disconnect)

    # ------------------------------------------------------------------ reading and routing
    async def _read_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = AmiDecoder(expect_banner=True)
        route = self._route
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return
                try:
                    messages = decoder.feed(data)
                except AmiProtocolError as exc:
                    log.error("ami protocol error", link=self.link.name, error=str(exc))
                    messages = exc.messages
                for msg in messages:
                    route(msg)
                backlog = len(self._queue)
                if backlog:
                    self._wakeup.set()
                    if backlog > self._backlog_warn:
                        log.warning("ami event consumers fall behind", link=self.link.name, backlog=backlog)
                        self._backlog_warn = backlog * 2
                    elif backlog < BACKLOG_WARN // 2:
                        self._backlog_warn = BACKLOG_WARN
                    if backlog >= self.config.max_backlog:
                        # bounded memory: stop reading (TCP pushes back on Asterisk) until consumers catch up
                        self.read_pauses += 1
                        log.warning("ami event backlog full, reading paused", link=self.link.name, backlog=backlog)
                        self._drained.clear()
                        await self._drained.wait()
        finally:
            self._link_lost(writer)

    def _route(self, msg: AmiEvent | AmiResponse | AmiBanner) -> None:
        if type(msg) is AmiEvent:
            self.events_received += 1
            if self._lists:
                p = self._lists.get(msg.get("ActionID") or "")
                if p is not None:
                    self._collect(p, msg)
                    return
            self._queue.append(msg)
        elif type(msg) is AmiResponse:
            p = self._pending.get(msg.action_id or "")
            if p is None:
                log.debug("ami response without a waiting action", action_id=msg.action_id)
                return
            if (msg.get("EventList") or "").lower() == "start":
                p.response = msg
                self._lists[p.action_id] = p
                return
            self._resolve(p, msg)
        elif type(msg) is AmiBanner:
            self.banner = msg.text
            if not msg.text.startswith("Asterisk Call Manager/"):
                log.error("not an AMI server", link=self.link.name, banner=msg.text[:80])
                if self._writer is not None:
                    self._writer.close()  # the session ends; last_error tells why

    def _collect(self, p: _Pending, event: AmiEvent) -> None:
        if (event.get("EventList") or "").lower() == "complete":
            assert p.response is not None
            self._resolve(p, AmiEventList(p.response, tuple(p.events), event))
        else:
            p.events.append(event)

    def _resolve(self, p: _Pending, result: Result) -> None:
        self._pending.pop(p.action_id, None)
        self._lists.pop(p.action_id, None)
        if not p.future.done():
            p.future.set_result(result)

    async def _dispatch_loop(self) -> None:
        queue, handlers, any_handlers = self._queue, self._handlers, self._any
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            n = 0
            while queue:
                event = queue.popleft()
                for cb in handlers.get(event.name, ()):
                    self._call(cb, event)
                for cb in any_handlers:
                    self._call(cb, event)
                n += 1
                if n % YIELD_EVERY == 0:
                    if not self._drained.is_set() and len(queue) <= self.config.max_backlog // 2:
                        self._drained.set()  # the reader goes on
                    await asyncio.sleep(0)  # let awaiting actions run: a slow consumer must not delay them
            self._drained.set()

    def _call(self, cb: EventCallback, event: AmiEvent) -> None:
        try:
            cb(event)
        except Exception:
            log.exception("ami event handler failed", event=event.name, handler=repr(cb))

    # ------------------------------------------------------------------ sending
    async def _send(self, name: str, headers: Headers, timeout: float) -> Result:  # noqa: ASYNC109
        writer = self._writer
        if writer is None or writer.is_closing():
            raise AmiNotConnected(f"AMI link is down; {name} not sent")
        fields: Sequence[tuple[str, str]] = list(pairs_of(headers))
        if any(k.lower() == "actionid" for k, _ in fields):
            raise ValueError("ActionID is set by the client")
        action_id = f"{self._prefix}{next(self._seq)}"
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        pending = _Pending(name, action_id, future)
        self._pending[action_id] = pending
        try:
            writer.write(encode_action(name, [*fields, ("ActionID", action_id)]))
            if writer.transport.get_write_buffer_size() > READ_SIZE:
                try:
                    await writer.drain()  # Asterisk reads slowly: do not pile actions up in memory
                except ConnectionError:
                    raise AmiLinkLost(name, action_id) from None
            await self._wait(future, timeout)
            if not future.done():
                raise AmiTimeout(name, action_id, timeout)
            return future.result()
        finally:
            self._pending.pop(action_id, None)
            self._lists.pop(action_id, None)

    async def _wait(self, awaitable: Awaitable[Any], timeout: float) -> Any:  # noqa: ASYNC109
        """Await ``awaitable`` for at most ``timeout`` seconds of the injected clock; ``None`` on timeout."""
        task = asyncio.ensure_future(awaitable)
        sleeper = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait({task, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            if not task.done() and task is not awaitable:
                task.cancel()  # our own wrapper (e.g. connected.wait()): do not leave it behind
        return task.result() if task.done() and not task.cancelled() else None

    # ------------------------------------------------------------------ helpers
    def _spawn(self, coro: Any, what: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"cti:{self.link.name}:{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _fire(self, callbacks: list[LinkCallback]) -> None:
        for cb in list(callbacks):
            try:
                result = cb()
                if inspect.isawaitable(result):
                    self._spawn(result, "callback")
            except Exception:
                log.exception("ami link callback failed", callback=getattr(cb, "__qualname__", cb))

    def _state_changed(self, old: LinkState, new: LinkState) -> None:
        log.debug("ami link state", link=self.link.name, old=old.value, new=new.value)
