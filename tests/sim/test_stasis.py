"""Stasis calls over the wire: AMI + ARI clients against the simulator, as in traces 01/02/03."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, AriProbe, get


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        yield s


async def test_stasis_answer_play_dtmf(sim: Simulator) -> None:
    ami, ari = AmiProbe(), AriProbe(sim.ari_url)
    try:
        login = await ami.connect(sim.ami_port)
        assert ami.banner == "Asterisk Call Manager/11.0.0"
        assert get(login, "Response") == "Success"
        await ari.connect()
        call = sim.place_call(
            from_number="5550100",
            from_name="Test Caller",
            to="100",
            dtmf=[(0.3, "1"), (0.5, "2")],
            hangup_after=60,
        )
        start = await ari.wait("StasisStart")
        cid = start["channel"]["id"]
        assert start["args"] == ["did", "100"]
        assert start["channel"]["state"] == "Ring"
        assert start["channel"]["dialplan"]["app_data"] == "ctiserver,did,100"
        assert (await ari.req("POST", f"/channels/{cid}/answer"))[0] == 204
        status, pb = await ari.req("POST", f"/channels/{cid}/play", media="sound:beep", playbackId="pb1")
        assert status == 201 and pb["state"] == "queued" and pb["target_uri"] == f"channel:{cid}"
        dtmf = await ari.wait("ChannelDtmfReceived", pred=lambda e: e["digit"] == "2")
        assert dtmf["duration_ms"] == 250
        await ari.wait("PlaybackFinished")
        call.hangup()  # the caller sends BYE
        await ari.wait("StasisEnd")
        await asyncio.wait_for(call.done.wait(), 20)
        hangup = await ami.wait_event("Hangup", Uniqueid=cid)
        assert get(hangup, "Cause") == "0" and get(hangup, "Cause-txt") == "Unknown"
        names = [get(m, "Event") for m in ami.events() if get(m, "Uniqueid") == cid]
        assert (
            names.index("Newchannel")
            < names.index("Newstate")
            < names.index("DTMFEnd")
            < names.index("Hangup")
        )
        assert "DTMFBegin" not in names  # SIP INFO gives no DTMFBegin
        assert [e["type"] for e in ari.events][:3] == ["StasisStart", "ChannelStateChange", "PlaybackStarted"]
    finally:
        await ami.close()
        await ari.close()


async def test_ari_errors_and_auth(sim: Simulator) -> None:
    ari = AriProbe(sim.ari_url)
    bad = AriProbe(sim.ari_url, password="wrong")
    sim.agent("1003", registered=False)
    try:
        assert (await ari.req("POST", "/channels/nope/answer"))[0] == 404
        status, body = await ari.req("DELETE", "/channels/nope")
        assert (status, body) == (404, {"message": "Channel not found"})
        status, body = await ari.req("POST", "/channels", endpoint="PJSIP/1003", app="ctiserver")
        assert (status, body) == (500, {"error": "Allocation failed"})
        assert (await ari.req("POST", "/channels", app="ctiserver"))[0] == 400
        assert (await bad.req("GET", "/channels"))[0] == 401
        assert (await ari.req("GET", "/asterisk/info"))[1]["system"]["version"].startswith("22")
    finally:
        await ari.close()
        await bad.close()


async def test_stasis_without_app_fails(sim: Simulator) -> None:
    ami = AmiProbe()
    try:
        await ami.connect(sim.ami_port)
        call = sim.place_call(to="100")
        await asyncio.wait_for(call.done.wait(), 20)
        var = await ami.wait_event("VarSet", Variable="STASISSTATUS")
        assert get(var, "Value") == "FAILED"
    finally:
        await ami.close()


async def _a_call_in_stasis(sim: Simulator, ami: AmiProbe, ari: AriProbe) -> tuple[Any, str, str]:
    """Both probes connected, a call from the carrier held in ``Stasis()``: (the call, its id, its name)."""
    await ami.connect(sim.ami_port)
    await ari.connect()
    call = sim.place_call(to="100", hangup_after=60)
    start = await ari.wait("StasisStart")
    return call, start["channel"]["id"], start["channel"]["name"]


async def test_ami_redirect_takes_a_call_out_of_its_dialplan_stasis(sim: Simulator) -> None:
    """AMI ``Redirect`` of a channel held in ``Stasis()`` of its dialplan and in no bridge (the dialer's answered
    call, redirected to an agent or to the abandon message): ``ast_explicit_goto`` publishes no snapshot, so no
    Newexten / ChannelDialplan shows the new location while Stasis runs; the app gets ``StasisEnd``, then
    STASISSTATUS=SUCCESS (app_stasis sets it once ``stasis_app_exec`` returned, as in trace 02), and the dialplan
    runs the new location from the priority given — app_stasis returns 0, nothing steps past priority 1."""
    ami, ari = AmiProbe(), AriProbe(sim.ari_url)
    try:
        call, cid, name = await _a_call_in_stasis(sim, ami, ari)
        target = [("Channel", name), ("Context", "from-external"), ("Exten", "601")]
        refused = await ami.action("Redirect", target)  # Priority is required (manager.c action_redirect)
        assert get(refused, "Response") == "Error" and get(refused, "Message") == "Priority not specified"
        gone = await ami.action("Redirect", [("Channel", "PJSIP/none-00000099"), *target[1:], ("Priority", "1")])
        assert get(gone, "Message") == "Channel does not exist: PJSIP/none-00000099"
        reply = await ami.action("Redirect", [*target, ("Priority", "1")])
        assert get(reply, "Response") == "Success"
        await ari.wait("StasisEnd")
        await asyncio.wait_for(call.done.wait(), 20)  # 601: Answer, Playback(hello-world), Hangup
        mine = [m for m in ami.events() if get(m, "Uniqueid") == cid]
        newexten = [m for m in mine if get(m, "Event") == "Newexten"]
        steps = [(get(m, "Context"), get(m, "Priority"), get(m, "Application")) for m in newexten]
        assert steps == [
            ("from-external", "1", "NoOp"),
            ("from-external", "2", "Stasis"),
            ("from-external", "1", "Answer"),  # exten 601: the first snapshot after the goto
            ("from-external", "2", "Playback"),
            ("from-external", "3", "Hangup"),
        ]
        names = [get(m, "Event") for m in mine]
        goto = next(i for i, m in enumerate(mine) if get(m, "Event") == "Newexten" and get(m, "Exten") == "601")
        status = [get(m, "Value") for m in mine if get(m, "Variable") == "STASISSTATUS"]
        assert status == ["", "SUCCESS"] and names[-1] == "Hangup" and goto < names.index("Newstate")
        app = [e["type"] for e in ari.events if e.get("channel", {}).get("id") == cid]
        assert app[0] == "StasisStart" and app[-2:] == ["StasisEnd", "ChannelVarset"], app
        assert ari.events[-1]["variable"] == "STASISSTATUS" and ari.events[-1]["value"] == "SUCCESS"
        assert "ChannelDialplan" not in app
        assert not sim.engine.channels
    finally:
        await ami.close()
        await ari.close()


async def test_ami_redirect_of_a_channel_in_a_dialplan_application_runs_the_priority_given(sim: Simulator) -> None:
    """AMI ``Redirect`` of a channel in ``Wait()`` (no bridge, no Stasis) to ``601,1`` runs ``601,1`` itself:
    ``ast_async_goto`` adds one for a channel in the PBX loop, ``ast_explicit_goto`` takes it off again, and
    ``__ast_pbx_run`` clears the async goto and spawns that priority without stepping. (Only a bridged channel
    whose ``Queue``/``Dial`` returns steps past it — trace 07.)"""
    ami = AmiProbe()
    try:
        await ami.connect(sim.ami_port)
        call = sim.place_call(to="607", hangup_after=60)  # 607: Answer, Wait(60), Hangup
        wait = await ami.wait_event("Newexten", Application="Wait")
        cid, name = get(wait, "Uniqueid"), get(wait, "Channel")
        target = [("Channel", name), ("Context", "from-external"), ("Exten", "601"), ("Priority", "1")]
        assert get(await ami.action("Redirect", target), "Response") == "Success"
        await asyncio.wait_for(call.done.wait(), 20)  # 601: Answer, Playback(hello-world), Hangup
        steps = [
            (get(m, "Exten"), get(m, "Priority"), get(m, "Application"))
            for m in ami.events()
            if get(m, "Uniqueid") == cid and get(m, "Event") == "Newexten"
        ]
        assert steps[-3:] == [("601", "1", "Answer"), ("601", "2", "Playback"), ("601", "3", "Hangup")], steps
    finally:
        await ami.close()


async def test_ami_redirect_of_a_bridged_stasis_channel_shows_the_goto_as_it_leaves_the_bridge(
    sim: Simulator,
) -> None:
    """The same ``Redirect`` while the channel is in an ARI bridge: leaving the bridge publishes its snapshot
    (``ast_channel_internal_bridge_set``), so the new exten shows with Stasis still the application — AMI
    ``Newexten`` and ARI ``ChannelDialplan`` — before ``BridgeLeave`` (as in trace 07's blind transfer), then
    ``StasisEnd`` and the new location's applications."""
    ami, ari = AmiProbe(), AriProbe(sim.ari_url)
    try:
        call, cid, name = await _a_call_in_stasis(sim, ami, ari)
        assert (await ari.req("POST", f"/channels/{cid}/answer"))[0] == 204
        status, bridge = await ari.req("POST", "/bridges", type="mixing")
        assert status == 200
        assert (await ari.req("POST", f"/bridges/{bridge['id']}/addChannel", channel=cid))[0] == 204
        await ami.wait_event("BridgeEnter", Uniqueid=cid)
        reply = await ami.action(
            "Redirect", [("Channel", name), ("Context", "from-external"), ("Exten", "601"), ("Priority", "1")]
        )
        assert get(reply, "Response") == "Success"
        await ari.wait("StasisEnd")
        await asyncio.wait_for(call.done.wait(), 20)
        mine = [m for m in ami.events() if get(m, "Uniqueid") == cid]
        names = [get(m, "Event") for m in mine]
        goto = next(i for i, m in enumerate(mine) if get(m, "Event") == "Newexten" and get(m, "Exten") == "601")
        assert get(mine[goto], "Application") == "Stasis" and goto < names.index("BridgeLeave")
        apps = [get(m, "Application") for m in mine[goto + 1 :] if get(m, "Event") == "Newexten"]
        assert apps == ["Answer", "Playback", "Hangup"]
        dialplan = [e for e in ari.events if e["type"] == "ChannelDialplan" and e["channel"]["id"] == cid]
        assert [(e["channel"]["dialplan"]["exten"], e["dialplan_app"]) for e in dialplan] == [("601", "Stasis")]
        assert not sim.engine.channels
    finally:
        await ami.close()
        await ari.close()


async def test_bad_login_refused(sim: Simulator) -> None:
    ami = AmiProbe()
    try:
        resp = await ami.connect(sim.ami_port, secret="wrong")
        assert get(resp, "Response") == "Error" and get(resp, "Message") == "Authentication failed"
        await asyncio.wait_for(ami.closed.wait(), 20)
        ok = AmiProbe()
        resp = await ok.connect(sim.ami_port, md5=True)
        assert get(resp, "Message") == "Authentication accepted"
        await ok.close()
    finally:
        await ami.close()


async def test_create_then_dial_and_hold(sim: Simulator) -> None:
    """``POST /channels/create`` + ``/dial`` (early media-less dialling), then hold/unhold in Stasis."""
    ari = AriProbe(sim.ari_url)
    ami = AmiProbe()
    try:
        await ami.connect(sim.ami_port)
        await ari.connect()
        status, ch = await ari.req(
            "POST",
            "/channels/create",
            endpoint="PJSIP/1001",
            app="ctiserver",
            appArgs="agent,x",
            channelId="agent-1",
        )
        assert status == 200 and ch["id"] == "agent-1" and ch["state"] == "Down"
        # in the app at once, before any dial (resource_channels.c ari_channel_thread)
        start = await ari.wait("StasisStart", pred=lambda e: e["channel"]["id"] == "agent-1")
        assert start["args"] == ["agent", "x"] and start["channel"]["state"] == "Down"
        assert (
            await ari.req(
                "POST", "/channels/create", endpoint="PJSIP/1001", app="ctiserver", channelId="agent-1"
            )
        )[0] == 409
        assert (await ari.req("POST", "/channels/agent-1/dial", timeout=10))[0] == 204
        ringing = await ari.wait("Dial", pred=lambda e: e["dialstatus"] == "RINGING")
        assert ringing["peer"]["id"] == "agent-1"
        await ari.wait(  # the answer, seen in the app
            "ChannelStateChange", pred=lambda e: e["channel"]["id"] == "agent-1" and e["channel"]["state"] == "Up"
        )
        assert [e["type"] for e in ari.events].count("StasisStart") == 1  # the answer is no second entry
        assert (await ari.req("POST", "/channels/agent-1/hold"))[0] == 204
        await ari.wait("ChannelHold")
        await ami.wait_event("Hold", Uniqueid="agent-1")
        assert (await ari.req("DELETE", "/channels/agent-1"))[0] == 204
        destroyed = await ari.wait("ChannelDestroyed")
        assert destroyed["cause"] == 16
        assert (await ari.req("POST", "/channels/agent-1/hold"))[0] == 404
    finally:
        await ari.close()
        await ami.close()


async def test_bridge_recording_writes_a_real_wav(tmp_path: object) -> None:
    from ctiserver.sim.config import SimConfig

    async with Simulator(SimConfig(recordings_dir=str(tmp_path))) as sim:
        await _record_and_fetch(sim)


async def _record_and_fetch(sim: Simulator) -> None:
    import io
    import wave

    ari = AriProbe(sim.ari_url)
    try:
        await ari.connect()
        sim.place_call(to="100", hangup_after=30)
        cid = (await ari.wait("StasisStart"))["channel"]["id"]
        await ari.req("POST", f"/channels/{cid}/answer")
        _, bridge = await ari.req("POST", "/bridges", type="mixing")
        assert (await ari.req("POST", f"/bridges/{bridge['id']}/addChannel", channel=cid))[0] == 204
        status, rec = await ari.req("POST", f"/bridges/{bridge['id']}/record", name="r1", format="wav")
        assert status == 201 and rec["state"] == "queued"
        assert (await ari.req("POST", f"/bridges/{bridge['id']}/record", name="r1", format="wav"))[0] == 409
        assert (await ari.req("POST", f"/bridges/{bridge['id']}/record", name="r2", format="mp9"))[0] == 422
        await ari.wait("RecordingStarted")
        await asyncio.sleep(1.0)
        assert (await ari.req("POST", "/recordings/live/r1/stop"))[0] == 204
        finished = await ari.wait("RecordingFinished")
        assert finished["recording"]["duration"] >= 1
        async with ari.session.get(f"{ari.base}/recordings/stored/r1/file") as resp:
            assert resp.status == 200
            data = await resp.read()
        with wave.open(io.BytesIO(data)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert 0.9 <= w.getnframes() / 8000 <= 5.0
        assert (await ari.req("DELETE", "/recordings/stored/r1"))[0] == 204
        assert (await ari.req("GET", "/recordings/stored/r1"))[0] == 404
    finally:
        await ari.close()
