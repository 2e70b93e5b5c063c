"""AmiClient over real TCP against tests/pbx/ami_server.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from ctiserver.config import AmiConfig
from ctiserver.pbx.ami.client import READ_SIZE, AmiClient
from ctiserver.pbx.ami.errors import AmiAuthError, AmiLinkLost, AmiNotConnected, AmiTimeout
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList, AmiResponse
from ctiserver.pbx.link import LinkState
from tests.pbx.ami_server import AmiTestServer, event
from tests.waiting import until as _until

WAIT = 30.0  # generous: the machine is shared


def config(port: int, **kw: object) -> AmiConfig:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        "keepalive_interval": 0,
        "action_timeout": WAIT,
        "connect_timeout": WAIT,
    }
    base.update(kw)
    return AmiConfig.model_validate(base)


@pytest.fixture
async def server() -> AsyncIterator[AmiTestServer]:
    srv = AmiTestServer()
    await srv.start()
    yield srv
    await srv.stop()


async def until(cond: Callable[[], object], within: float = WAIT) -> None:
    await _until(cond, within, poll=0.01)


async def test_md5_login_ping_and_events_in_order(server: AmiTestServer) -> None:
    async with AmiClient(config(server.port)) as client:
        assert client.connected.is_set() and client.link.state is LinkState.UP
        assert client.banner == "Asterisk Call Manager/11.0.0"
        assert [r.message.get("AuthType") for r in server.actions("Login")] == ["MD5"]
        assert "Secret" not in server.actions("Login")[0].message  # MD5: the secret never goes on the wire
        named: list[str] = []
        every: list[str] = []
        unsubscribe = client.on_event("Newchannel", lambda e: named.append(e["Uniqueid"]))
        client.on_event("*", lambda e: every.append(e.name))
        pong = await client.action("Ping")
        assert isinstance(pong, AmiResponse) and pong.ok and pong["Ping"] == "Pong"
        await server.send_events(
            *(event("Newchannel", Uniqueid=f"u{i}") for i in range(50)), event("Hangup", Uniqueid="u0")
        )
        await until(lambda: len(every) == 51)
        assert named == [f"u{i}" for i in range(50)]
        assert every[-1] == "Hangup"
        unsubscribe()
        await server.send_events(event("Newchannel", Uniqueid="late"))
        await until(lambda: len(every) == 52)
        assert "late" not in named


async def test_plain_login_and_wrong_secret(server: AmiTestServer) -> None:
    async with AmiClient(config(server.port, auth="plain")) as client:
        assert client.connected.is_set()
    with pytest.raises(AmiAuthError, match="refused"):
        async with AmiClient(config(server.port, secret=SecretStr("wrong"))):
            pass


async def test_originate_in_flight_when_link_drops_fails_and_is_never_resent(server: AmiTestServer) -> None:
    server.drop_on.add("Originate")
    reconnects: list[int] = []
    async with AmiClient(config(server.port)) as client:
        client.on_reconnect(lambda: reconnects.append(client.logins))
        with pytest.raises(AmiLinkLost) as info:
            await client.action("Originate", {"Channel": "PJSIP/1002", "Exten": "100", "Context": "x"})
        assert info.value.action == "Originate" and not info.value.idempotent
        await server.wait_logins(2)
        await until(client.connected.is_set)
        pong = await client.action("Ping")  # the new link works
        assert isinstance(pong, AmiResponse) and pong.ok
        await asyncio.sleep(0.3)  # give a (wrong) re-send every chance to show up
        assert len(server.actions("Originate")) == 1
        assert client.logins == 2 and reconnects[-1] == 2


async def test_event_list_is_collected_as_one_result(server: AmiTestServer) -> None:
    server.channels = 4
    async with AmiClient(config(server.port)) as client:
        seen: list[str] = []
        client.on_event("*", lambda e: seen.append(e.name))
        result = await client.action("CoreShowChannels")
        assert isinstance(result, AmiEventList)
        assert [e["Channel"] for e in result.events] == [f"PJSIP/100{i}" for i in range(4)]
        assert result.complete is not None and result.complete["ListItems"] == "4"
        await client.action("Ping")
        assert "CoreShowChannel" not in seen  # list members belong to the action, not to subscribers


async def test_slow_event_consumer_does_not_delay_action_responses(server: AmiTestServer) -> None:
    server.flood_before_pong = 2000
    async with AmiClient(config(server.port)) as client:
        handled: list[int] = []

        def slow(e: AmiEvent) -> None:
            time.sleep(0.0005)  # a consumer that is slow on CPU
            handled.append(int(e["Seq"]))

        client.on_event("Flood", slow)
        pong = await client.action("Ping")
        assert isinstance(pong, AmiResponse) and pong.ok
        # the Pong came after 2000 events on the wire, yet the caller got it before they were all handled
        assert len(handled) < 2000
        await until(lambda: len(handled) == 2000)
        assert handled == list(range(2000))


async def test_backlog_is_bounded_reading_pauses_and_nothing_is_lost(server: AmiTestServer) -> None:
    server.flood_before_pong = 6000
    cfg = config(server.port).model_copy(update={"max_backlog": 500})
    async with AmiClient(cfg) as client:
        handled: list[int] = []
        peak = [0]

        def slow(e: AmiEvent) -> None:
            time.sleep(0.0001)
            peak[0] = max(peak[0], client.backlog)
            handled.append(int(e["Seq"]))

        client.on_event("Flood", slow)
        pong = await client.action("Ping")
        assert isinstance(pong, AmiResponse) and pong.ok
        await until(lambda: len(handled) == 6000)
        assert handled == list(range(6000))  # in order, none lost
        # reading stopped at 500 queued events; one read (64 KiB, 24+ bytes an event) may come on top; without
        # the bound all 6000 would queue up at once
        assert client.read_pauses >= 1 and peak[0] <= 500 + READ_SIZE // 24


async def test_action_timeout_and_not_connected(server: AmiTestServer) -> None:
    server.silent_on.add("Getvar")
    async with AmiClient(config(server.port)) as client:
        with pytest.raises(AmiTimeout, match="Getvar"):
            await client.action("Getvar", {"Variable": "X"}, timeout=0.3)
        assert client._pending == {}
        await server.stop()
        await until(lambda: not client.connected.is_set())
        with pytest.raises(AmiNotConnected, match="not sent"):
            await client.action("Hangup", {"Channel": "PJSIP/1001-1"}, timeout=0.3)
        assert server.actions("Hangup") == []
        # Asterisk comes back on the same port: the client finds it, an action waiting for the link goes out
        waiting = asyncio.ensure_future(client.action("Ping", timeout=WAIT))
        await server.start(server.port)
        pong = await waiting
        assert isinstance(pong, AmiResponse) and pong.ok and client.logins == 2


async def test_keepalive_detects_a_dead_link(server: AmiTestServer) -> None:
    async with AmiClient(config(server.port, keepalive_interval=0.1, action_timeout=0.3)):
        server.silent_on.add("Ping")
        await server.wait_logins(2)
        assert len(server.actions("Ping")) >= 1


async def test_unreachable_at_start_then_up(unused_port: int) -> None:
    client = AmiClient(config(unused_port))
    async with client:
        assert not client.connected.is_set() and "cannot connect" in (client.last_error or "")
        srv = AmiTestServer()
        await srv.start(unused_port)
        try:
            await asyncio.wait_for(client.connected.wait(), WAIT)
        finally:
            await client.close()
            await srv.stop()
    assert client.link.state is LinkState.CLOSED


async def test_utf8_name_split_between_two_tcp_writes(server: AmiTestServer) -> None:
    async with AmiClient(config(server.port)) as client:
        names: list[str] = []
        client.on_event("Newchannel", lambda e: names.append(e["CallerIDName"]))
        frame = event("Newchannel", CallerIDName="Иван Петров", ConnectedLineName="Łukasz Żółć")
        cut = len(b"Event: Newchannel\r\nCallerIDName: \xd0")
        await server.send_events(frame, split_at=cut)
        await until(lambda: names == ["Иван Петров"])


async def test_action_timeout_runs_on_the_injected_clock(server: AmiTestServer) -> None:
    from ctiserver.clock import ManualClock

    clock = ManualClock()
    server.silent_on.add("Getvar")
    async with AmiClient(config(server.port, action_timeout=10.0), clock) as client:
        pending = asyncio.ensure_future(client.action("Getvar", {"Variable": "X"}))
        await until(lambda: bool(server.actions("Getvar")))
        await clock.advance(9.0)
        assert not pending.done()  # real time passes, the clock's does not: no timeout yet
        await clock.advance(1.5)
        with pytest.raises(AmiTimeout):
            await asyncio.wait_for(pending, WAIT)


async def test_not_an_ami_server_is_reported_clearly() -> None:
    async def http_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()  # until the client goes
        writer.close()

    srv = await asyncio.start_server(http_like, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with AmiClient(config(port)) as client:
            assert not client.connected.is_set()
            assert "not an AMI server" in (client.last_error or "")
            assert "HTTP/1.1 400" in (client.last_error or "")
    finally:
        srv.close()
        await srv.wait_closed()
