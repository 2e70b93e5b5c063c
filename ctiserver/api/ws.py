"""The WebSocket hub: subscriptions to topics, live events, and replay from a cursor after a reconnect.

Client → server frames (JSON): ``{"op": "subscribe", "topics": ["agent:1001"], "last_event_id": "…"}``
(or ``"last_seq": 41``), ``{"op": "unsubscribe", "topics": [...]}``, ``{"op": "ping"}``. The same can be
given on the URL: ``/api/ws?topics=agent:1001&last_event_id=…``. Server → client: ``{"op": "subscribed",
"topics": [...], "replayed": n, "last_seq": s}``, ``{"op": "event", "event": {envelope}}`` in sequence
order, ``{"op": "error", "code": …, "message": …}``, ``{"op": "pong"}``. Events with ``seq`` ≤ the cursor
are never sent again; events after it are sent exactly once, replayed ones first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, cast

import orjson
from aiohttp import WSMsgType, web

from ctiserver.api.auth import ALL_ROLES, PRINCIPAL, Principal
from ctiserver.api.errors import forbidden
from ctiserver.api.topics import Topic, matches, may_subscribe, parse_topic
from ctiserver.api.ws_frames import Frame, FrameCache, text_frame
from ctiserver.api.ws_routing import TopicIndex
from ctiserver.clock import Clock
from ctiserver.events.bus import Bus, InMemoryBus, Subscription
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.log import EventLog, ReplayExpired
from ctiserver.logs import get_logger
from ctiserver.tasks import cancel_and_wait

log = get_logger(__name__)
WRITE_LIMIT = 64 * 1024  # bytes buffered for a client beyond which its events wait for the pump (flow control)


class SubscribeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class WsSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        principal: Principal,
        hub: WsHub,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        self.ws = ws
        self.principal = principal
        self.hub = hub
        self.topics: set[Topic] = set()
        self.last_sent = 0
        self._lock = asyncio.Lock()
        # the connection's transport: live events are written to it as ready-made frames (ws_frames.py)
        # (uvloop's transports are not ``asyncio.WriteTransport`` subclasses, hence the cast)
        self._transport = cast(asyncio.WriteTransport, transport) if transport is not None else None
        self._held: list[bytes] | None = None  # frames of this loop pass after its first, written together
        self._scanned = 0
        if hub.routed is not None:  # the hub offers this session only the events of its topics
            self.sub: Subscription = Subscription(hub.routed, (), self.wants, hub.queue_size)
        else:
            self.sub = hub.bus.subscribe(predicate=self.wants, maxsize=hub.queue_size)

    def wants(self, event: DomainEvent) -> bool:
        return any(matches(t, event, self.hub.call_agents) for t in self.topics)

    def deliver(self, event: DomainEvent) -> None:
        """A live event for this session: written at once when the session is idle (nothing queued, no replay
        under way: order is kept) and its connection keeps up, else queued for the pump."""
        if self._lock.locked() or self.sub.lagged or not self.sub.queue.empty() or not self._write(event):
            self.hub.queued += 1
            self.sub.offer(event)

    def _write(self, event: DomainEvent) -> bool:
        """Write ``event``'s frame to the transport now. The first frame of a loop pass goes at once (a pop is
        not delayed); the others of the same pass follow in one ``write`` at the end of it (a call's events to
        its agent often come in bursts: one ``send`` instead of several). False: the connection is closing or
        behind (more than ``WRITE_LIMIT`` buffered), the pump sends it with flow control."""
        transport = self._transport
        if (
            transport is None
            or self.ws.closed  # no data frame may follow a close frame
            or transport.is_closing()
            or transport.get_write_buffer_size() > WRITE_LIMIT
        ):
            return False
        if event.seq <= self.last_sent:
            return True
        self.last_sent = event.seq
        wire = self.hub.frame(event).wire
        if self._held is None:
            transport.write(wire)
            self._held = []
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._held.append(wire)
        if event.type == "screen.pop":
            self.hub.pop_sent(event)
        return True

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and self._transport is not None and not self.ws.closed and not self._transport.is_closing():
            self._transport.write(b"".join(held))

    async def send_event(self, event: DomainEvent) -> None:
        """The pump's and the replay's way: through aiohttp, which waits while the connection is behind."""
        if event.seq <= self.last_sent:
            return
        self._flush()  # frames ``deliver`` holds go first
        self.last_sent = event.seq
        await self.ws.send_str(self.hub.frame(event).payload.decode())
        if event.type == "screen.pop":
            self.hub.pop_sent(event)

    async def subscribe(self, topics: list[str], last_event_id: str | None, last_seq: int | None) -> None:
        parsed = []
        for text in topics:
            try:
                topic = parse_topic(str(text))
            except ValueError as exc:
                raise SubscribeError("invalid_topic", str(exc)) from None
            if not may_subscribe(self.principal, topic):
                raise SubscribeError("forbidden", f"this token may not subscribe to {topic}")
            parsed.append(topic)
        async with self._lock:
            self._flush()
            cursor = None
            if last_event_id:
                cursor = await self.hub.log.seq_of(last_event_id)
                if cursor is None:
                    raise SubscribeError("unknown_cursor", "last_event_id is not in the event log")
            elif last_seq is not None:
                cursor = max(0, int(last_seq))
            new = [t for t in parsed if t not in self.topics]
            self.topics.update(parsed)
            self.hub.index.add(self, new)
            backlog: list[DomainEvent] = []
            if cursor is not None:
                backlog = await self._missed(cursor, new or parsed)
            else:
                self.last_sent = max(self.last_sent, self.hub.log.last_seq)
            await self.ws.send_json(
                {
                    "op": "subscribed",
                    "topics": sorted(map(str, self.topics)),
                    "replayed": len(backlog),
                    "last_seq": backlog[-1].seq if backlog else self.last_sent,
                }
            )
            if cursor is not None:
                self.last_sent = cursor
                for event in backlog:
                    await self.send_event(event)
                self.last_sent = max(self.last_sent, self._scanned)

    async def _missed(self, cursor: int, topics: list[Topic]) -> list[DomainEvent]:
        """Events after ``cursor`` for ``topics`` (what this client missed), in order."""
        out: list[DomainEvent] = []
        after = cursor
        while True:
            try:
                batch = await self.hub.log.replay(after, limit=2000)
            except ReplayExpired as exc:
                raise SubscribeError(
                    "cursor_expired",
                    f"{exc}: the events after the cursor were purged (events.retention_days); "
                    "reload the state from the REST API and subscribe without a cursor",
                ) from None
            if not batch:
                self._scanned = after
                return out
            out.extend(e for e in batch if any(matches(t, e, self.hub.call_agents) for t in topics))
            after = batch[-1].seq
            if len(out) > self.hub.max_replay:
                raise SubscribeError("too_far_behind", "too many missed events; use GET /api/events")

    async def pump(self) -> None:
        """Send live events in order; after an overflow, catch up from the log."""
        while True:
            event = await self.sub.get()
            async with self._lock:
                if self.sub.lagged:
                    self.sub.lagged = False
                    while not self.sub.queue.empty():
                        self.sub.queue.get_nowait()
                    for missed in await self._missed(self.last_sent, list(self.topics)):
                        await self.send_event(missed)
                    self.last_sent = max(self.last_sent, self._scanned)
                    continue
                await self.send_event(event)

    def close(self) -> None:
        self.hub.index.remove(self, self.topics)
        self.sub.close()


class WsHub:
    def __init__(self, bus: Bus, log: EventLog, clock: Clock, queue_size: int = 10_000) -> None:
        self.bus = bus
        self.log = log
        self.clock = clock
        self.queue_size = queue_size
        self.max_replay = 100_000
        self.sessions: set[WsSession] = set()
        self.on_pop: list[Any] = []
        self.call_agents: dict[str, set[str]] = {}  # call id → agents it was offered to (agent topics)
        self.keep_ended = 300.0  # seconds a finished call stays in ``call_agents`` (late events, replays)
        self.index: TopicIndex[WsSession] = TopicIndex()
        self.frames = FrameCache()
        self.queued = 0  # live events left to the sessions' pumps (a session busy, or its client behind)
        # an in-process-style bus calls listeners for every event, in order: route from one listener instead
        # of one bus subscription (and one topic test) per session
        self.routed = bus if isinstance(bus, InMemoryBus) else None
        if self.routed is not None:
            self.routed.listeners.append(self._index)
            self.routed.listeners.append(self._route)

    def _route(self, event: DomainEvent) -> None:
        for session in self.index.candidates(event, self.call_agents):
            if session.wants(event):
                session.deliver(event)

    def frame(self, event: DomainEvent) -> Frame:
        frame = self.frames.get(event.id)
        if frame is None:
            payload = orjson.dumps({"op": "event", "event": event.to_json()})
            frame = Frame(payload, text_frame(payload))
            self.frames.put(event.id, frame)
        return frame

    def _index(self, event: DomainEvent) -> None:
        """Bus listener (runs before subscribers see the event)."""
        if event.type in ("agent.offered", "agent.ringing", "agent.answered"):
            agent = event.data.get("agent")
            if agent:
                self.call_agents.setdefault(str(event.data.get("call_id") or event.subject), set()).add(
                    str(agent)
                )
        elif event.type == "call.ended" and event.subject in self.call_agents:
            with contextlib.suppress(RuntimeError):  # no running loop (synchronous tests)
                asyncio.get_running_loop().call_later(
                    self.keep_ended, self.call_agents.pop, event.subject, None
                )

    def pop_sent(self, event: DomainEvent) -> None:
        for cb in self.on_pop:
            cb(event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        principal: Principal = request[PRINCIPAL]
        if principal.role not in ALL_ROLES:  # a monitor token scrapes /metrics; it gets no events
            raise forbidden(f"role {principal.role.value!r} may not subscribe to events")
        # no permessage-deflate: small JSON frames to thousands of agents on the LAN; a zlib context per session
        # cost CPU on every frame (bench/screen_pop.py) and ~100 KB of memory per connection
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024, compress=False)
        await ws.prepare(request)
        session = WsSession(ws, principal, self, request.transport)
        self.sessions.add(session)
        pump = asyncio.create_task(session.pump(), name="cti:ws-pump")
        try:
            topics = [t for t in request.query.get("topics", "").split(",") if t]
            if not topics and principal.agent:
                topics = [f"agent:{principal.agent}"]
            if topics:
                await self._subscribe(session, {"topics": topics, **dict(request.query)})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_frame(session, msg.data)
        finally:
            try:
                await cancel_and_wait(pump)
            finally:
                session.close()
                self.sessions.discard(session)
        return ws

    async def _on_frame(self, session: WsSession, text: str) -> None:
        try:
            frame = json.loads(text)
            if not isinstance(frame, dict):
                raise ValueError("a frame must be a JSON object")
        except ValueError as exc:
            await session.ws.send_json({"op": "error", "code": "bad_json", "message": str(exc)})
            return
        op = frame.get("op")
        if op == "ping":
            await session.ws.send_json({"op": "pong"})
        elif op == "subscribe":
            await self._subscribe(session, frame)
        elif op == "unsubscribe":
            for text in frame.get("topics") or []:
                with contextlib.suppress(ValueError):
                    topic = parse_topic(str(text))
                    session.topics.discard(topic)
                    self.index.remove(session, [topic])
            await session.ws.send_json({"op": "unsubscribed", "topics": sorted(map(str, session.topics))})
        else:
            await session.ws.send_json({"op": "error", "code": "unknown_op", "message": f"unknown op {op!r}"})

    async def _subscribe(self, session: WsSession, frame: dict[str, Any]) -> None:
        topics = frame.get("topics")
        if isinstance(topics, str):
            topics = [t for t in topics.split(",") if t]
        if not isinstance(topics, list) or not topics:
            await session.ws.send_json(
                {"op": "error", "code": "invalid", "message": "topics: a non-empty list"}
            )
            return
        last_seq = frame.get("last_seq")
        try:
            seq = int(last_seq) if last_seq not in (None, "") else None
            await session.subscribe(topics, frame.get("last_event_id") or None, seq)
        except (TypeError, ValueError):
            await session.ws.send_json({"op": "error", "code": "invalid", "message": "last_seq: an integer"})
        except SubscribeError as exc:
            await session.ws.send_json({"op": "error", "code": exc.code, "message": str(exc)})
