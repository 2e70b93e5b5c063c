"""ARI originate of a ``Local/`` endpoint into an application, over the wire: Asterisk subscribes the application
to the Local peer ``;2`` too (res/ari/resource_channels.c ``ari_channels_handle_originate_with_id``: "Subscribe
to the Local channel peer also", via core_local.c ``ast_local_get_peer``), so the app's WebSocket carries the
``;2`` half's channel-topic events — its dialplan steps, variables, state, the ``Dial`` it places, its hang-up
and destruction — but no ``ChannelCreated`` (the subscription comes after the allocation), no ``StasisStart``
(``;2`` runs the dialplan, only ``;1`` enters the app) and nothing of the ``Dial`` bridge (bridge events go to
the bridge's topic, which the app is not subscribed to). ``otherChannelId`` names ``;2``
(core_unreal.c ``ast_unreal_new_channels``; only together with ``channelId``, else ``<channelId>;2``)."""

from __future__ import annotations

import asyncio
from typing import Any

from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AriProbe

OUT = {
    "_X.": (
        Step(app="NoOp", data="call-back to ${EXTEN}"),
        Step(app="Dial", data="PJSIP/${EXTEN}@trunk,30"),
        Step(app="Hangup"),
    )
}


def _config() -> SimConfig:
    base = SimConfig()
    return base.model_copy(update={"dialplan": {**base.dialplan, "ctiserver-outbound": OUT}})


def _of(ari: AriProbe, cid: str) -> list[dict[str, Any]]:
    """The events about channel ``cid`` (as ``channel``, or as a ``Dial``'s caller/peer)."""
    out = []
    for e in ari.events:
        ids = {(e.get(k) or {}).get("id") for k in ("channel", "caller", "peer")}
        if cid in ids:
            out.append(e)
    return out


async def _originate(ari: AriProbe, path: str = "/channels", **params: str) -> tuple[int, Any]:
    """ARI originate of the call-back number's Local channel into our app."""
    return await ari.req("POST", path, endpoint="Local/4930100@ctiserver-outbound", app="ctiserver", **params)


async def _gone(sim: Simulator) -> None:
    for _ in range(200):
        if not sim.engine.channels:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"channels left: {list(sim.engine.channels)}")


async def test_the_app_hears_the_local_peer_of_a_channel_it_originated() -> None:
    async with Simulator(_config()) as sim:
        sim.customer("4930100", answer_after=0.2, hangup_after=0.5)
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            status, one = await _originate(ari, appArgs="callback,7", channelId="cb-1")
            assert status == 200 and one["id"] == "cb-1" and one["name"].endswith(";1")
            two_name = one["name"][:-1] + "2"
            start = await ari.wait("StasisStart")
            assert start["channel"]["id"] == "cb-1" and start["args"] == ["callback", "7"]
            gone = await ari.wait("ChannelDestroyed", pred=lambda e: e["channel"]["id"] == "cb-1;2")
            await ari.wait("ChannelDestroyed", pred=lambda e: e["channel"]["id"] == "cb-1")
            await _gone(sim)

            two = _of(ari, "cb-1;2")
            assert {e["channel"]["name"] for e in two if "channel" in e} == {two_name}
            kinds = [e["type"] for e in two]
            # the ;2 half runs the dialplan: each step, the Dial it places, its answer, its variables
            steps = [e["dialplan_app"] for e in two if e["type"] == "ChannelDialplan"]
            assert steps[:2] == ["NoOp", "Dial"]
            dials = [e for e in two if e["type"] == "Dial"]
            assert [d["dialstatus"] for d in dials] == ["", "RINGING", "ANSWER"]
            assert all(d["caller"]["id"] == "cb-1;2" for d in dials)
            assert all(d["peer"]["name"].startswith("PJSIP/trunk-") for d in dials)
            assert dials[0]["dialstring"] == "4930100@trunk"
            ups = [e for e in two if e["type"] == "ChannelStateChange"]
            assert ups and ups[-1]["channel"]["state"] == "Up"
            assert "BRIDGEPEER" in {e["variable"] for e in two if e["type"] == "ChannelVarset"}
            assert kinds[-1] == "ChannelDestroyed" and gone["channel"]["name"] == two_name
            # …but it is not created for the app, never enters it, and its Dial bridge is not the app's
            assert "ChannelCreated" not in kinds and "StasisStart" not in kinds
            assert not [e for e in ari.events if e["type"] in ("ChannelEnteredBridge", "ChannelLeftBridge")]
            assert not [e for e in ari.events if e["type"] == "ChannelCreated"]
            # the callee itself is nobody the app subscribed to: only the Dial events name it
            callee = dials[0]["peer"]["id"]
            assert {e["type"] for e in _of(ari, callee)} == {"Dial"}
            # ;1 in the app: its own events, ending as the pair goes
            one_kinds = [e["type"] for e in _of(ari, "cb-1")]
            assert one_kinds.count("StasisStart") == 1 and one_kinds[-1] == "ChannelDestroyed"
        finally:
            await ari.close()


async def test_the_app_is_subscribed_to_the_peer_before_it_rings() -> None:
    """GET /applications lists both halves right after the originate (the subscription is made in the request,
    before the dial thread starts)."""
    async with Simulator(_config()) as sim:
        sim.customer("4930100", answer_after=None)
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            status, one = await _originate(ari)
            assert status == 200
            two = next(c for c in sim.engine.channels.values() if c.name == one["name"][:-1] + "2")
            assert two.id != one["id"] and not two.id.endswith(";2")  # no channelId: ids of their own
            status, app = await ari.req("GET", "/applications/ctiserver")
            assert status == 200 and set(app["channel_ids"]) == {one["id"], two.id}
            assert (await ari.req("DELETE", f"/channels/{one['id']}"))[0] == 204
            await ari.wait("ChannelDestroyed", pred=lambda e: e["channel"]["id"] == two.id)
            await _gone(sim)
        finally:
            await ari.close()


async def test_other_channel_id_names_the_local_peer() -> None:
    async with Simulator(_config()) as sim:
        sim.customer("4930100", answer_after=None)
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            # POST /channels/{channelId} (originateWithId) with otherChannelId
            status, one = await _originate(ari, "/channels/cb-2", otherChannelId="cb-2-peer")
            assert status == 200 and one["id"] == "cb-2"
            await ari.wait("Dial", pred=lambda e: (e.get("caller") or {}).get("id") == "cb-2-peer")
            two = sim.engine.channels["cb-2-peer"]
            assert two.name == one["name"][:-1] + "2" and two.linkedid == "cb-2"
            # either id in use: 409, nothing allocated
            for ids in ({"channelId": "cb-2"}, {"channelId": "cb-3", "otherChannelId": "cb-2-peer"}):
                status, body = await _originate(ari, **ids)
                assert status == 409 and body["message"] == "Channel with given unique ID already exists"
            assert len(sim.engine.channels) == 3  # cb-2, cb-2-peer and the callee ringing
            # otherChannelId alone is ignored (assigned ids apply only when the first one is given)
            status, lone = await _originate(ari, otherChannelId="lonely")
            assert status == 200 and "lonely" not in sim.engine.channels
            # too long an id: 400
            status, body = await _originate(ari, channelId="x", otherChannelId="y" * 150)
            assert status == 400 and body["message"] == "Uniqueid length exceeds maximum of 149"
            for cid in ("cb-2", lone["id"]):
                assert (await ari.req("DELETE", f"/channels/{cid}"))[0] == 204
            await ari.wait("ChannelDestroyed", pred=lambda e: e["channel"]["id"] == "cb-2-peer")
            await _gone(sim)
        finally:
            await ari.close()


async def test_a_pjsip_originate_subscribes_only_its_channel() -> None:
    async with Simulator() as sim:
        sim.agent("1001", answer_after=0.1)
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            status, ch = await ari.req("POST", "/channels", endpoint="PJSIP/1001", app="ctiserver")
            assert status == 200
            await ari.wait("StasisStart")
            status, app = await ari.req("GET", "/applications/ctiserver")
            assert app["channel_ids"] == [ch["id"]]
            assert (await ari.req("DELETE", f"/channels/{ch['id']}"))[0] == 204
            await _gone(sim)
        finally:
            await ari.close()
