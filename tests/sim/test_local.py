"""Local channels over the wire: AMI Originate of Local/200@from-external (the queue) and ARI originate of a
Local channel into Stasis."""

from __future__ import annotations

import asyncio

from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, AriProbe, get


async def test_ami_originate_local_into_queue() -> None:
    async with Simulator() as sim:
        sim.agent("1001", answer_after=0.1, hangup_after=0.5)
        sim.engine.queues.add("support", "PJSIP/1001", "Agent 1001")
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            resp = await ami.action(
                "Originate",
                [
                    ("Channel", "Local/200@from-external"),
                    ("Application", "Wait"),
                    ("Data", "10"),
                    ("CallerID", '"Dialer" <5550300>'),
                    ("Async", "true"),
                    ("ChannelId", "att-1"),
                ],
            )
            assert get(resp, "Message") == "Originate successfully queued"
            done = await ami.wait_event("OriginateResponse")
            assert get(done, "Response") == "Success" and get(done, "Uniqueid") == "att-1"
            assert (get(done, "Channel") or "").endswith(";1")
            half2 = await ami.wait(lambda m: get(m, "Event") == "QueueCallerJoin")
            assert (get(half2, "Channel") or "").startswith("Local/200@from-external-")
            assert (get(half2, "Channel") or "").endswith(";2")
            assert get(half2, "Linkedid") == "att-1"
            await ami.wait_event("AgentComplete")
            await ami.wait(lambda m: get(m, "Event") == "Hangup" and get(m, "Uniqueid") == "att-1")
            await asyncio.sleep(0.1)
            assert not sim.engine.channels
            assert not [e for e in sim.engine.endpoints if e.startswith("Local/")]
        finally:
            await ami.close()


async def test_ari_originate_local_enters_stasis_on_answer() -> None:
    async with Simulator() as sim:
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            status, ch = await ari.req(
                "POST", "/channels", endpoint="Local/601@from-external", app="ctiserver", appArgs="dialer,42"
            )
            assert status == 200 and ch["name"].endswith(";1")
            start = await ari.wait("StasisStart")
            assert start["args"] == ["dialer", "42"] and start["channel"]["id"] == ch["id"]
            assert (await ari.req("DELETE", f"/channels/{ch['id']}"))[0] == 204
            await ari.wait("ChannelDestroyed")
            for _ in range(100):
                if not sim.engine.channels:
                    break
                await asyncio.sleep(0.05)
            assert not sim.engine.channels
        finally:
            await ari.close()


async def test_originate_variables_with_inheritance_prefix_reach_both_local_halves() -> None:
    """``Variable: _CTI_ATTEMPT=a1`` (inherited by the channels dialled) is stored and reported as given
    (``VarSet Variable: _CTI_ATTEMPT``) but ``${CTI_ATTEMPT}`` finds it (``ast_var_name`` drops the
    underscores); ``local_call()`` copies ``;1``'s variables to ``;2`` before ``;2`` runs the dialplan; ARI
    ``GET /channels/{id}/variable?variable=CTI_ATTEMPT`` finds it too."""
    from ctiserver.sim.config import SimConfig, Step

    base = SimConfig()
    plan = {
        **base.dialplan,
        "t-out": {
            "_X.": (
                Step(app="Set", data="SEEN2=${CTI_ATTEMPT}/${CTI_CAMPAIGN}"),
                Step(app="Answer"),
                Step(app="Wait", data="5"),
            )
        },
        "t-in": {"s": (Step(app="Set", data="SEEN1=${CTI_ATTEMPT}"), Step(app="Wait", data="5"))},
    }
    async with Simulator(base.model_copy(update={"dialplan": plan})) as sim:
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            await ami.action(
                "Originate",
                [
                    ("Channel", "Local/123@t-out/n"),
                    ("Context", "t-in"),
                    ("Exten", "s"),
                    ("Priority", "1"),
                    ("Async", "true"),
                    ("ChannelId", "a1"),
                    ("Variable", "_CTI_ATTEMPT=a1"),
                    ("Variable", "CTI_CAMPAIGN=spring"),
                ],
            )
            set_on_1 = await ami.wait(lambda m: get(m, "Event") == "VarSet" and get(m, "Uniqueid") == "a1")
            assert (get(set_on_1, "Variable"), get(set_on_1, "Value")) == ("_CTI_ATTEMPT", "a1")
            seen2 = await ami.wait(lambda m: get(m, "Event") == "VarSet" and get(m, "Variable") == "SEEN2")
            assert get(seen2, "Uniqueid") == "a1;2" and get(seen2, "Value") == "a1/spring"
            seen1 = await ami.wait(lambda m: get(m, "Event") == "VarSet" and get(m, "Variable") == "SEEN1")
            assert get(seen1, "Uniqueid") == "a1" and get(seen1, "Value") == "a1"
            ari = AriProbe(sim.ari_url)
            try:
                status, body = await ari.req("GET", "/channels/a1/variable", variable="CTI_ATTEMPT")
            finally:
                await ari.close()
            assert status == 200 and body == {"value": "a1"}
            sim.engine.set_var(sim.engine.channels["a1"], "CTI_ATTEMPT", "b2")  # replaces it, prefix aside
            assert sim.engine.channels["a1"].variables.get("_CTI_ATTEMPT") is None
            assert sim.engine.channels["a1"].var("CTI_ATTEMPT") == "b2"
        finally:
            await ami.close()


async def test_a_local_channel_to_an_extension_that_does_not_exist_fails_before_ringing() -> None:
    """core_local.c ``local_call``: allocation never looks at the dialplan, the call does — "No such
    extension/context". ARI originate still answers 200 with the channel; then both halves go with cause 0, no
    Dial event, no ringing, no StasisStart. AMI Originate: ``OriginateResponse`` Failure, Reason 0 (dial.c
    publishes no Dial when ``ast_call`` fails)."""
    async with Simulator() as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        try:
            await ami.connect(sim.ami_port)
            await ari.connect()
            status, ch = await ari.req("POST", "/channels", endpoint="Local/4930123@no-such-context", app="ctiserver")
            assert status == 200 and ch["name"].endswith(";1")
            gone = await ari.wait("ChannelDestroyed", pred=lambda e: e["channel"]["id"] == ch["id"])
            assert (gone["channel"]["id"], gone["cause"], gone["cause_txt"]) == (ch["id"], 0, "Unknown")
            mine = [e["type"] for e in ari.events if e.get("channel", e.get("peer", {})).get("id") == ch["id"]]
            assert mine == ["ChannelDestroyed"], mine
            # the app is subscribed to the Local peer too (resource_channels.c): ;2, which never ran, just goes
            peer = [e for e in ari.events if e.get("channel", {}).get("name") == ch["name"][:-1] + "2"]
            assert [(e["type"], e["cause"]) for e in peer] == [("ChannelDestroyed", 0)]
            assert not [e for e in ari.events if e["type"] in ("Dial", "StasisStart", "ChannelStateChange")]

            await ami.action(
                "Originate",
                [
                    ("Channel", "Local/4930123@no-such-context/n"),
                    ("Context", "from-external"),
                    ("Exten", "601"),
                    ("Priority", "1"),
                    ("Async", "true"),
                    ("ChannelId", "att-9"),
                ],
            )
            done = await ami.wait_event("OriginateResponse")
            assert (get(done, "Response"), get(done, "Reason"), get(done, "Uniqueid")) == ("Failure", "0", "att-9")
            hangups = [m for m in ami.events("Hangup") if (get(m, "Uniqueid") or "").startswith("att-9")]
            assert sorted((get(m, "Uniqueid"), get(m, "Cause")) for m in hangups) == [("att-9", "0"), ("att-9;2", "0")]
            assert not [m for m in ami.events() if get(m, "Event") in ("DialBegin", "DialEnd", "Newstate")]
            await asyncio.sleep(0.1)
            assert not sim.engine.channels
        finally:
            await ami.close()
            await ari.close()
