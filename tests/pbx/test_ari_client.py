"""AriClient over real HTTP/WebSocket against tests/pbx/ari_server.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from ctiserver.config import AriConfig
from ctiserver.pbx.ari.client import AriClient, AriResync
from ctiserver.pbx.ari.models import AriEvent, ChannelDtmfReceived, StasisStart, UnknownEvent
from ctiserver.pbx.ari.rest import AriError
from ctiserver.pbx.link import LinkState
from tests.pbx.ari_server import AriTestServer, channel
from tests.waiting import until as _until

WAIT = 30.0


def config(url: str, **kw: object) -> AriConfig:
    base: dict[str, object] = {
        "url": url,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        "request_timeout": WAIT,
    }
    base.update(kw)
    return AriConfig.model_validate(base)


@pytest.fixture
async def server() -> AsyncIterator[AriTestServer]:
    srv = AriTestServer()
    await srv.start()
    yield srv
    await srv.stop()


async def until(cond: Callable[[], object], within: float = WAIT) -> None:
    await _until(cond, within, poll=0.01)


async def test_events_typed_and_raw_in_order(server: AriTestServer) -> None:
    async with AriClient(config(server.url)) as client:
        assert server.ws_connects[0] == {"app": "ctiserver", "subscribeAll": "false"}
        typed: list[AriEvent] = []
        raw: list[str] = []
        client.on_event("*", typed.append)
        starts: list[StasisStart] = []
        client.on_event("StasisStart", lambda e: starts.append(e))  # type: ignore[arg-type]
        client.on_raw(lambda obj: raw.append(obj["type"]))
        await server.send(
            {"type": "StasisStart", "args": ["did", "100"], "channel": channel("c1")},
            {"type": "ChannelDtmfReceived", "digit": "5", "duration_ms": 250, "channel": channel("c1")},
            {"type": "BrandNewEvent", "x": 1},
        )
        await until(lambda: len(typed) == 3)
        assert raw == ["StasisStart", "ChannelDtmfReceived", "BrandNewEvent"]
        assert isinstance(typed[0], StasisStart) and typed[0].args == ("did", "100")
        assert typed[0].channel.caller.name == "Иван Петров"
        assert isinstance(typed[1], ChannelDtmfReceived) and typed[1].digit == "5"
        assert isinstance(typed[2], UnknownEvent) and typed[2].raw["x"] == 1
        assert len(starts) == 1


async def test_rest_calls_and_errors(server: AriTestServer) -> None:
    server.channels["c1"] = channel("c1", state="Ring")
    async with AriClient(config(server.url)) as client:
        await client.answer("c1")
        assert ("POST", "/channels/c1/answer") in [r[:2] for r in server.requests]
        assert (await client.get_channel("c1")).state == "Up"
        pb = await client.play("c1", ["sound:hello-world", "sound:beep"])
        plays = [r for r in server.requests if r[1] == "/channels/c1/play"]
        assert pb.id == "pb-1" and plays[0][2] == {"media": "sound:hello-world,sound:beep"}
        with pytest.raises(AriError) as missing:
            await client.answer("nope")
        assert missing.value.status == 404 and missing.value.message == "Channel not found"
        with pytest.raises(AriError) as failed:
            await client.originate("PJSIP/1002", app="ctiserver", app_args=["agent", "c1"], timeout=20,
                                   variables={"CAMPAIGN": "7"})  # fmt: skip
        assert failed.value.status == 500 and failed.value.message == "Allocation failed"
        _, _, query, body = next(r for r in server.requests if r[:2] == ("POST", "/channels"))
        assert query["appArgs"] == "agent,c1" and query["timeout"] == "20"
        assert body == {"variables": {"CAMPAIGN": "7"}}
        assert (await client.asterisk_info()).version == "22.10.1"


async def test_websocket_dropped_reconnects_reregisters_and_resyncs(server: AriTestServer) -> None:
    ringing = {**channel("c3", name="PJSIP/1003-00000003", state="Ringing"), "dialplan": {"app_name": ""}}
    server.channels = {"c1": channel("c1"), "c2": channel("c2", name="PJSIP/1001-00000002"), "c3": ringing}
    server.app_channels = {"c1", "c3"}  # c3: a leg we originated, still ringing — subscribed, not in Stasis
    resyncs: list[AriResync] = []
    async with AriClient(config(server.url)) as client:
        client.on_resync(resyncs.append)
        got: list[str] = []
        client.on_event("*", lambda e: got.append(e.type))
        await until(lambda: len(resyncs) == 1)
        server.drop_websockets()  # like `core restart now`: no close frame
        await server.wait_connects(2)
        await until(lambda: len(resyncs) == 2)
        assert server.ws_connects[1]["app"] == "ctiserver"  # the app is registered again
        assert resyncs[1].connection == 2 and {c.id for c in resyncs[1].channels} == {"c1", "c2", "c3"}
        assert [c.id for c in resyncs[1].in_stasis] == ["c1"]  # the call in Stasis is not forgotten
        await server.send({"type": "StasisEnd", "channel": channel("c1")})
        await until(lambda: got == ["StasisEnd"])
        assert client.connections == 2 and client.link.state is LinkState.UP


async def test_reconnect_on_request_even_when_the_link_looks_fine(server: AriTestServer) -> None:
    async with AriClient(config(server.url, reconnect_min=40.0, reconnect_max=60.0)) as client:
        client.reconnect("AMI FullyBooted")  # no back-off wait (>= 20 s here) for a requested reconnect
        await server.wait_connects(2, within=15.0)
        await until(client.connected.is_set)


async def test_bad_credentials_and_unreachable(server: AriTestServer, unused_port: int) -> None:
    with pytest.raises(AriError) as info:
        async with AriClient(config(server.url, password=SecretStr("wrong"))):
            pass
    assert info.value.status == 401
    client = AriClient(config(f"http://127.0.0.1:{unused_port}/ari"))
    async with client:
        assert not client.connected.is_set() and "cannot connect" in (client.last_error or "")
        with pytest.raises(AriError) as down:
            await client.list_channels()
        assert down.value.status == 0
        late = AriTestServer()
        await late.start(unused_port)
        try:
            await asyncio.wait_for(client.connected.wait(), WAIT)
        finally:
            await client.close()
            await late.stop()
    assert client.link.state is LinkState.CLOSED


async def test_malformed_replies_become_clear_errors(server: AriTestServer) -> None:
    server.channels = {"c1": channel("c1"), "bad": {"name": "PJSIP/x", "state": "Up"}}  # no id
    async with AriClient(config(server.url)) as client:
        assert [c.id for c in await client.list_channels()] == ["c1"]  # the broken entry is skipped
        with pytest.raises(AriError) as info:
            await client.get_channel("bad")
        assert info.value.status == 502 and "missing 'id'" in info.value.message
