"""A small scriptable AMI server for the client tests: real TCP, banner, plain/MD5 login, Ping, an event list,
Originate that can drop the link mid-action, and a record of every action received (to prove nothing is
re-sent)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from ctiserver.pbx.ami.codec import AmiDecoder, encode_message
from ctiserver.pbx.ami.messages import AmiEvent, AmiMessage

Pairs = Sequence[tuple[str, str]]


@dataclass
class Received:
    conn: int
    action: str
    message: AmiMessage


@dataclass
class AmiTestServer:
    username: str = "cti"
    secret: str = "cti-secret"
    drop_on: set[str] = field(default_factory=set)  # actions that make the server close the link, unanswered
    silent_on: set[str] = field(default_factory=set)  # actions never answered
    flood_before_pong: int = 0  # events written just before each Pong
    channels: int = 3  # CoreShowChannel events in the list
    received: list[Received] = field(default_factory=list)
    logins: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: dict[int, asyncio.StreamWriter] = field(default_factory=dict)
    _authed: set[int] = field(default_factory=set)
    _conn_seq: int = 0
    _login_cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection (like Asterisk going away)."""
        if self._server is not None:
            self._server.close()
            for w in list(self._writers.values()):
                w.close()
            await self._server.wait_closed()
            self._server = None

    def actions(self, name: str) -> list[Received]:
        return [r for r in self.received if r.action.lower() == name.lower()]

    async def wait_logins(self, n: int, within: float = 30.0) -> None:
        async with asyncio.timeout(within), self._login_cond:
            await self._login_cond.wait_for(lambda: self.logins >= n)

    async def send_events(self, *events: Pairs, split_at: int | None = None) -> None:
        """Write events to every logged-in connection; ``split_at`` cuts the bytes in two writes."""
        data = b"".join(encode_message(e) for e in events)
        for conn in list(self._authed):
            w = self._writers.get(conn)
            if w is None:
                continue
            if split_at is None:
                w.write(data)
            else:
                w.write(data[:split_at])
                await w.drain()
                await asyncio.sleep(0.05)
                w.write(data[split_at:])
            await w.drain()

    def drop_all(self) -> None:
        for w in list(self._writers.values()):
            w.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conn_seq += 1
        conn = self._conn_seq
        self._writers[conn] = writer
        challenge = ""
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        decoder = AmiDecoder()
        try:
            while data := await reader.read(65536):
                for msg in decoder.feed(data):
                    if not isinstance(msg, AmiMessage):
                        continue
                    name = msg.get("Action") or ""
                    self.received.append(Received(conn, name, msg))
                    aid = msg.get("ActionID") or ""
                    if name in self.drop_on:
                        writer.close()
                        return
                    if name in self.silent_on:
                        continue
                    if name == "Challenge":
                        challenge = secrets.token_hex(8)
                        self._reply(writer, aid, [("Challenge", challenge)])
                    elif name == "Login":
                        await self._login(conn, writer, msg, aid, challenge)
                    elif conn not in self._authed:
                        self._reply(writer, aid, [("Message", "Permission denied")], ok=False)
                    else:
                        self._action(writer, name, aid)
                        if name == "Logoff":
                            await writer.drain()
                            writer.close()
                            return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.pop(conn, None)
            self._authed.discard(conn)
            writer.close()

    async def _login(
        self, conn: int, writer: asyncio.StreamWriter, msg: AmiMessage, aid: str, challenge: str
    ) -> None:
        if (msg.get("AuthType") or "").lower() == "md5":
            expected = hashlib.md5((challenge + self.secret).encode()).hexdigest()
            ok = bool(challenge) and msg.get("Key") == expected
        else:
            ok = msg.get("Secret") == self.secret
        ok = ok and msg.get("Username") == self.username
        if not ok:
            self._reply(writer, aid, [("Message", "Authentication failed")], ok=False)
            return
        self._authed.add(conn)
        self._reply(writer, aid, [("Message", "Authentication accepted")])
        writer.write(encode_message([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "5")]))
        await writer.drain()
        async with self._login_cond:
            self.logins += 1
            self._login_cond.notify_all()

    def _action(self, writer: asyncio.StreamWriter, name: str, aid: str) -> None:
        if name == "Ping":
            for i in range(self.flood_before_pong):
                writer.write(encode_message([("Event", "Flood"), ("Seq", str(i))]))
            self._reply(writer, aid, [("Ping", "Pong")])
        elif name == "CoreShowChannels":
            self._reply(writer, aid, [("EventList", "start"), ("Message", "Channels will follow")])
            for i in range(self.channels):
                member = [("Event", "CoreShowChannel"), ("ActionID", aid), ("Channel", f"PJSIP/100{i}")]
                writer.write(encode_message(member))
            writer.write(
                encode_message(
                    [
                        ("Event", "CoreShowChannelsComplete"),
                        ("ActionID", aid),
                        ("EventList", "Complete"),
                        ("ListItems", str(self.channels)),
                    ]
                )
            )
        elif name == "Originate":
            self._reply(writer, aid, [("Message", "Originate successfully queued")])
        elif name == "Logoff":
            writer.write(encode_message([("Response", "Goodbye"), ("ActionID", aid)]))
        else:
            self._reply(writer, aid, [("Message", "Invalid/unknown command")], ok=False)

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, aid: str, extra: Pairs, ok: bool = True) -> None:
        writer.write(encode_message([("Response", "Success" if ok else "Error"), ("ActionID", aid), *extra]))


def event(name: str, **headers: str) -> list[tuple[str, str]]:
    return [("Event", name), *headers.items()]


__all__ = ["AmiEvent", "AmiTestServer", "Received", "event"]
