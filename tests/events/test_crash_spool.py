"""Nothing handed out is lost when the daemon is killed: a daemon (child process) streams events to a WebSocket
client and a webhook receiver while its database lags behind; it is killed with SIGKILL mid-stream. A new daemon
on the same data recovers the write-ahead spool; the WebSocket client resumes from the last event id it saw and
gets every event exactly once (by id and seq), the webhook receiver gets every event (at-least-once by id)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ctiserver.events.log import EventLog
from ctiserver.events.signing import verify
from tests.api.harness import daemon
from tests.conftest import free_port
from tests.waiting import until

CHILD = Path(__file__).with_name("crash_daemon.py")
SECRET = "crash-test-secret-0123456789"


class Hook:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.bad = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        sent_at = float(request.headers["X-CTI-Timestamp"])
        if not verify(SECRET, body, request.headers["X-CTI-Signature"], now=sent_at):
            self.bad += 1
            return web.Response(status=400)
        self.ids.append(json.loads(body)["id"])
        return web.Response(status=204)


async def _read(ws: aiohttp.ClientWebSocketResponse, got: list[dict[str, Any]], until: int | None) -> None:
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        frame = json.loads(msg.data)
        assert frame.get("op") != "error", frame
        if frame.get("op") == "event":
            got.append(frame["event"])
            if until is not None and frame["event"]["seq"] >= until:
                return


async def test_sigkill_mid_stream_then_resume_gets_every_event_once(tmp_path: Path) -> None:
    hook = Hook()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), str(tmp_path), str(port), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = b""
        async with asyncio.timeout(60):
            while not line.startswith(b"HELLO "):
                line = await proc.stdout.readline()
                assert line, "the child daemon exited"
        hello = json.loads(line[len(b"HELLO ") :])
        before: list[dict[str, Any]] = []
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                hello["url"].replace("http", "ws") + "/api/ws?topics=all",
                headers={"Authorization": f"Bearer {hello['token']}"},
            )
            reader = asyncio.create_task(_read(ws, before, None))
            await until(lambda: len(before) >= 400, within=60)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            await asyncio.wait_for(reader, 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert before, "the client saw events before the kill"

    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        log = d.ctx.require(EventLog)
        last = log.last_seq
        # the spool had them: every event the client saw is in the log, at the same seq
        for event in before:
            assert await log.seq_of(event["id"]) == event["seq"]
        assert last >= before[-1]["seq"]
        after: list[dict[str, Any]] = []
        token = d.tokens["crm"]
        url = d.url.replace("http", "ws") + f"/api/ws?topics=all&last_event_id={before[-1]['id']}"
        async with http.ws_connect(url, headers={"Authorization": f"Bearer {token}"}) as ws:
            if last > before[-1]["seq"]:
                await asyncio.wait_for(_read(ws, after, last), 30)
        seqs = [e["seq"] for e in before + after]
        first = before[0]["seq"]  # (the events before the client connected are not its business)
        assert seqs == list(range(first, last + 1))  # gap-free, each exactly once
        ids = [e["id"] for e in before + after]
        assert len(set(ids)) == len(ids)
        replayed = await log.replay(0, limit=100_000)
        assert [e.seq for e in replayed] == list(range(1, last + 1))
        assert [e.id for e in replayed[first - 1 :]] == ids
        every = {e.id for e in replayed}
        # the webhook outbox recovers from the log: every event arrives
        await until(lambda: every <= set(hook.ids), within=60, poll=0.05)
        assert hook.bad == 0
    await runner.cleanup()
