"""The Redis Streams bus: several daemons share one feed.

``publish`` assigns the global sequence number and appends the event to the stream atomically (one Lua
script: ``INCR`` + ``XADD``), so every daemon sees the same events in the same order with the same
``seq``. A reader task per daemon ``XREAD``s the stream and fans each entry out to the local listeners
and subscribers exactly as the in-process bus does; an event published here is delivered locally through
the stream too, so the order is the stream's order everywhere.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import redis.asyncio as aioredis

from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.logs import get_logger

log = get_logger(__name__)

_PUBLISH = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'seq', seq, 'e', ARGV[1])
return seq
"""


class RedisStreamBus(InMemoryBus):
    def __init__(self, url: str, stream: str = "ctiserver:events", maxlen: int = 1_000_000) -> None:
        super().__init__()
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self._redis: aioredis.Redis | None = None
        self._script: Any = None
        self._last_id = "0-0"
        self.received = 0
        self._stopping = False

    async def __aenter__(self) -> RedisStreamBus:
        self._redis = aioredis.from_url(self.url)
        self._script = self._redis.register_script(_PUBLISH)
        last: Any = await self._redis.xrevrange(self.stream, count=1)
        self._last_id = last[0][0].decode() if last else "0-0"
        seq = await self._redis.get(self.stream + ":seq")
        self._seq = int(seq or 0)
        return self

    def stop(self) -> None:
        """Make ``run`` return (within one ``XREAD`` block, 1 s)."""
        self._stopping = True

    async def __aexit__(self, *exc: object) -> None:
        self._stopping = True
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, event: DomainEvent) -> DomainEvent:
        assert self._script is not None, "use 'async with RedisStreamBus(...)'"
        body = orjson.dumps(event.to_json())
        seq = await self._script(keys=[self.stream, self.stream + ":seq"], args=[body, self.maxlen])
        return event.with_seq(int(seq))

    def dispatch(self, event: DomainEvent) -> None:
        self._seq = max(self._seq, event.seq)
        for listener in self.listeners:
            listener(event)
        for sub in self._subs:
            if sub.matches(event):
                sub.offer(event)

    async def run(self) -> None:
        """The reader: deliver every stream entry, in stream order, to this daemon's listeners/subscribers."""
        while self._redis is not None and not self._stopping:
            try:
                reply: Any = await self._redis.xread({self.stream: self._last_id}, count=1000, block=1000)
            except (aioredis.ConnectionError, aioredis.TimeoutError):
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None
                if self._stopping:
                    return
                log.warning("redis stream read failed; retrying")
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    self._last_id = entry_id.decode()
                    try:
                        obj = json.loads(fields[b"e"])
                        obj["seq"] = int(fields[b"seq"])
                        event = DomainEvent.from_json(obj)
                    except (KeyError, ValueError, TypeError):
                        log.warning("skipping a malformed stream entry", entry=self._last_id)
                        continue
                    self.received += 1
                    self.dispatch(event)
