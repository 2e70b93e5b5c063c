"""A TCP proxy on 127.0.0.1 that delivers the server's bytes ``lag`` seconds late (the client's go through at
once): a PBX link running behind, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lag: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + lag, data))
        queue.put_nowait((loop.time() + lag, b""))
        await sender
    finally:
        sender.cancel()
        writer.close()


@contextlib.asynccontextmanager
async def lagging_proxy(port: int, lag: float) -> AsyncIterator[int]:
    """Yields the proxy's port; each connection to it is forwarded to ``127.0.0.1:port``."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", port)
        both = [
            asyncio.create_task(_pipe(client_r, server_w, 0.0)),
            asyncio.create_task(_pipe(server_r, client_w, lag)),
        ]
        tasks.update(both)
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        for t in both:
            t.cancel()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for t in tasks:
            t.cancel()
