"""The AMI server: TCP, banner ``Asterisk Call Manager/11.0.0``, Login (plain or MD5 challenge), event fan-out
and action dispatch (actions in ``ami_actions``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import ssl
from typing import TYPE_CHECKING

from ctiserver.sim.ami_commands import get_perm
from ctiserver.sim.ami_filter import AmiFilter
from ctiserver.sim.fmt import ari_time
from ctiserver.sim.hub import encode_headers

if TYPE_CHECKING:
    from ctiserver.sim.simulator import Simulator

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
MAX_FRAME = 64 * 1024


class AmiSession:
    def __init__(self, sim: Simulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.events_on = False
        self.filters: list[AmiFilter] = []  # this session's Filter actions (sim/ami_filter.py)
        self.authenticated = False
        self.writeperm = 0  # manager.conf write = of the user, from the login on
        self.challenge: str | None = None
        self.closed = False
        self._out: list[bytes] = []
        self._flush_scheduled = False

    def send(self, data: bytes) -> None:
        """Queue bytes; everything sent in one loop iteration goes out in one write (fewer syscalls)."""
        if self.closed:
            return
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and not self.closed and not self.writer.is_closing():
            self.writer.write(b"".join(self._out))
        self._out.clear()

    def respond(
        self,
        action_id: str | None,
        response: str,
        message: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = [("Response", response)]
        if action_id is not None:
            headers.append(("ActionID", action_id))
        if message is not None:
            headers.append(("Message", message))
        headers += extra or []
        self.send(encode_headers(headers))

    def event(self, headers: list[tuple[str, str]]) -> None:
        self.send(encode_headers(headers))

    async def run(self) -> None:
        self.send(BANNER)
        buf = b""
        try:
            while not self.closed:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                buf += chunk.replace(b"\r\n", b"\n")
                while b"\n\n" in buf:
                    frame, buf = buf.split(b"\n\n", 1)
                    if frame.strip():
                        await self.handle(frame.decode("utf-8", "replace"))
                if len(buf) > MAX_FRAME:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self._flush()
        self.closed = True
        with contextlib.suppress(ValueError):
            self.sim.hub.ami_sinks.remove(self)
        with contextlib.suppress(Exception):
            self.writer.close()

    async def handle(self, frame: str) -> None:
        headers: list[tuple[str, str]] = []
        for line in frame.split("\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers.append((key.strip(), value.strip()))
        msg: dict[str, str] = {}
        for k, v in headers:
            msg.setdefault(k.lower(), v)
        action = msg.get("action", "").lower()
        aid = msg.get("actionid")
        if not action:
            self.respond(aid, "Error", "Missing action in request")
            return
        if action in ("login", "challenge", "logoff") or self.authenticated:
            pass
        else:
            self.respond(aid, "Error", "Permission denied")
            return
        if action == "challenge":
            if msg.get("authtype", "").lower() != "md5":
                self.respond(aid, "Error", "Must specify AuthType")
                return
            self.challenge = str(secrets.randbelow(10**9)).zfill(9)
            self.respond(aid, "Success", None, [("Challenge", self.challenge)])
            return
        if action == "login":
            self._login(aid, msg)
            return
        if action == "logoff":
            self.respond(aid, "Goodbye", "Thanks for all the fish.")
            self._flush()
            await self.writer.drain()
            self.close()
            return
        from ctiserver.sim import (  # noqa: F401  (register actions)
            ami_db_actions,
            ami_dialplan_actions,
            ami_originate,
            ami_queue_actions,
        )
        from ctiserver.sim.ami_actions import dispatch

        await dispatch(self, action, aid, msg, headers)

    def _login(self, aid: str | None, msg: dict[str, str]) -> None:
        cfg = self.sim.config
        user = msg.get("username", "")
        ok = user == cfg.ami_user
        if msg.get("authtype", "").lower() == "md5":
            expected = hashlib.md5(((self.challenge or "") + cfg.ami_secret).encode()).hexdigest()
            ok = ok and self.challenge is not None and msg.get("key", "").lower() == expected
        else:
            ok = ok and msg.get("secret", "") == cfg.ami_secret
        if not ok:
            self.respond(aid, "Error", "Authentication failed")
            self.sim.hub.ami(
                "FailedACL" if user != cfg.ami_user else "InvalidPassword",
                "security,all",
                [
                    ("EventTV", ari_time(self.sim.clock.now())),
                    ("Severity", "Error"),
                    ("Service", "AMI"),
                    ("EventVersion", "1"),
                    ("AccountID", user),
                ],
            )
            self._flush()
            self.closed = True
            asyncio.get_running_loop().call_later(0.05, self._really_close)
            return
        self.authenticated = True
        self.writeperm = get_perm(cfg.ami_write)
        self.events_on = msg.get("events", "on").lower() not in ("off", "no", "false", "0")
        self.respond(aid, "Success", "Authentication accepted")
        uptime = int(self.sim.clock.now() - self.sim.engine.booted_at)
        if not self.sim.booting:
            self.event(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", str(uptime)),
                    ("LastReload", str(uptime)),
                    ("Status", "Fully Booted"),
                ]
            )
        self.sim.hub.ami_sinks.append(self)
        self.sim.hub.ami(
            "SuccessfulAuth",
            "security,all",
            [
                ("EventTV", ari_time(self.sim.clock.now())),
                ("Severity", "Informational"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", user),
                ("SessionID", hex(id(self))),
                ("LocalAddress", "IPV4/TCP/127.0.0.1/5038"),
                ("RemoteAddress", "IPV4/TCP/127.0.0.1/0"),
                ("UsingPassword", "0"),
                ("SessionTV", ari_time(self.sim.clock.now())),
            ],
        )

    def _really_close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class AmiServer:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.server: asyncio.Server | None = None
        self.sessions: set[AmiSession] = set()
        self.port = 0
        self.refuse_until = 0.0  # loop time: connections made before it are closed at once (an outage)

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.server = await asyncio.start_server(self._client, host, port, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self.refuse_until:
            writer.close()  # the link is down: the client sees the socket close before the banner
            return
        session = AmiSession(self.sim, reader, writer)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)

    def drop_all(self) -> None:
        for s in list(self.sessions):
            s.close()

    def outage(self, seconds: float) -> None:
        """Drop every AMI session and close the connections made in the next ``seconds`` (real seconds) before
        the banner: the events of that time reach nobody, as with a cut link to a running Asterisk."""
        self.refuse_until = asyncio.get_running_loop().time() + seconds
        self.drop_all()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.drop_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)
            self.server = None
