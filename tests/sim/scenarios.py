"""Drivers that replay each recorded scenario against the simulator: the same AMI actions / ARI
requests at the
same relative times (``ami-actions.raw``, ``ari-requests.jsonl``, ``scenario.md``), with scripted
SIP-less callers
and agents in place of sipp/baresip."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, AriProbe, get
from tests.sim.scaled_clock import ScaledClock

CALLER = {"from_number": "5550100", "from_name": "Test Caller"}
QUEUE_ADD = [
    ("Queue", "support"),
    ("Interface", "PJSIP/1001"),
    ("MemberName", "Agent 1001"),
    ("StateInterface", "PJSIP/1001"),
    ("Penalty", "0"),
]


@dataclass
class Ctx:
    sim: Simulator
    ami: AmiProbe
    ari: AriProbe
    clock: ScaledClock
    t0: float
    after: AmiProbe | None = None  # the AMI connection re-opened after a restart (12)

    async def at(self, t: float) -> None:
        await self.clock.sleep(t - (self.clock.monotonic() - self.t0))

    async def post(self, path: str, **params: Any) -> tuple[int, Any]:
        return await self.ari.req("POST", path, **params)


async def _stasis_play_dtmf(c: Ctx, endpoint: str, mode: str) -> None:
    call = c.sim.place_call(
        **CALLER,
        to="100",
        endpoint=endpoint,
        dtmf_mode=mode,
        at=0.304,
        dtmf=[(1.007, "1"), (2.21, "2")],
        hangup_after=4.515,
    )
    start = await c.ari.wait("StasisStart")
    cid = start["channel"]["id"]
    await c.post(f"/channels/{cid}/answer")
    await c.post(f"/channels/{cid}/play", media="sound:hello-world", playbackId=f"pb-hello-{cid}")
    await c.ari.wait("ChannelDtmfReceived", pred=lambda e: e["digit"] == "2")
    await c.post(f"/channels/{cid}/play", media="sound:beep", playbackId=f"pb-beep-{cid}")
    await call.done.wait()


async def s01(c: Ctx) -> None:
    await _stasis_play_dtmf(c, "caller", "info")


async def s01b(c: Ctx) -> None:
    await _stasis_play_dtmf(c, "anonymous", "rfc4733")


async def s02(c: Ctx) -> None:
    c.sim.agent("1001", answer_after=0.001)
    call = c.sim.place_call(**CALLER, to="100", at=0.92, hangup_after=5.0)
    start = await c.ari.wait("StasisStart")
    cid = start["channel"]["id"]
    await c.post(f"/channels/{cid}/answer")
    await c.post(f"/channels/{cid}/moh", mohClass="default")
    await c.at(2.035)
    _, agent = await c.post(
        "/channels",
        endpoint="PJSIP/1001",
        app="ctiserver",
        appArgs=f"agent,{cid}",
        callerId="Test Caller <5550100>",
        originator=cid,
        timeout=20,
    )
    aid = agent["id"]
    await c.ari.wait("StasisStart", pred=lambda e: e["channel"]["id"] == aid)
    _, bridge = await c.post("/bridges", type="mixing", name=f"cti-{cid}")
    await c.ari.req("DELETE", f"/channels/{cid}/moh")
    await c.post(f"/bridges/{bridge['id']}/addChannel", channel=f"{cid},{aid}")
    await c.post(
        f"/bridges/{bridge['id']}/record",
        name="rec-02",
        format="wav",
        ifExists="overwrite",
        beep="false",
        terminateOn="none",
    )
    await call.done.wait()
    await c.ari.req("DELETE", f"/channels/{aid}")
    await c.ari.req("DELETE", f"/bridges/{bridge['id']}")
    status, _ = await c.ari.req("GET", "/recordings/stored/rec-02")
    assert status == 200


async def s03(c: Ctx) -> None:
    agent = c.sim.agent("1002", registered=False, answer_after=None)
    c.sim.place_call(**CALLER, to="100", at=0.311)
    start = await c.ari.wait("StasisStart")
    cid = start["channel"]["id"]
    await c.post(f"/channels/{cid}/answer")
    await c.post(f"/channels/{cid}/moh", mohClass="default")
    await c.at(0.926)
    status, body = await c.post(
        "/channels", endpoint="PJSIP/1002", app="ctiserver", appArgs=f"agent,{cid}", originator=cid, timeout=5
    )
    assert (status, body) == (500, {"error": "Allocation failed"})
    await c.at(1.243)
    agent.register(True)
    await c.at(1.546)
    status, _ = await c.post(
        "/channels", endpoint="PJSIP/1002", app="ctiserver", appArgs=f"agent,{cid}", originator=cid, timeout=5
    )
    assert status == 200
    await c.ari.wait("ChannelDestroyed")
    await c.ari.req("DELETE", f"/channels/{cid}/moh")
    await c.post(f"/channels/{cid}/play", media="sound:vm-nobodyavail", playbackId=f"pb-nobody-{cid}")
    await c.ari.wait("PlaybackFinished")
    await c.ari.req("DELETE", f"/channels/{cid}")
    await c.ari.wait("StasisEnd")
    await c.at(9.348)
    agent.register(False)


SCENARIOS: dict[str, Callable[[Ctx], Awaitable[None]]] = {
    "01-stasis-answer-play-dtmf": s01,
    "01b-stasis-dtmf-rfc4733": s01b,
    "02-stasis-bridge-agent-record": s02,
    "03-stasis-agent-no-answer": s03,
}


async def _connected(c: Ctx, call_id: str) -> None:
    await c.ami.wait(lambda m: get(m, "Event") == "AgentConnect" and get(m, "Uniqueid") == call_id)


async def s04(c: Ctx) -> None:
    agent = c.sim.agent("1001", answer_after=None, hangup_after=3.0)
    await c.at(0.919)
    await c.ami.action("QueueAdd", QUEUE_ADD)
    call = c.sim.place_call(**CALLER, to="200")
    await c.ami.wait_event("AgentCalled")
    await c.clock.sleep(2.0)
    agent.answer()
    await call.done.wait()
    await c.ami.action("QueueRemove", QUEUE_ADD[:2])


async def s05(c: Ctx) -> None:
    agent = c.sim.agent("1001", answer_after=0.05)
    await c.at(0.616)
    await c.ami.action("QueueAdd", QUEUE_ADD)
    await c.ami.action("QueuePause", [*QUEUE_ADD[:2], ("Paused", "true"), ("Reason", "lunch")])
    call = c.sim.place_call(**CALLER, to="200", hangup_after=5.0)
    await call.done.wait()
    await c.at(5.736)
    await c.ami.action("QueuePause", [*QUEUE_ADD[:2], ("Paused", "false")])
    await c.ami.action("QueueRemove", QUEUE_ADD[:2])
    agent.register(False)


async def s07(c: Ctx) -> None:
    c.sim.agent("1001", answer_after=0.05)
    c.sim.agent("1002", answer_after=0.05)
    await c.at(0.927)
    await c.ami.action("QueueAdd", QUEUE_ADD)
    call = c.sim.place_call(**CALLER, to="200", hangup_after=4.6)
    await call.placed.wait()
    await _connected(c, call.channel_id)
    await c.at(3.046)
    agent_chan = next(ch.name for ch in c.sim.engine.channels.values() if ch.name.startswith("PJSIP/1001-"))
    resp = await c.ami.action(
        "BlindTransfer", [("Channel", agent_chan), ("Exten", "1002"), ("Context", "from-agents")]
    )
    assert get(resp, "Message") == "Transfer succeeded"
    await call.done.wait()
    await c.at(6.55)
    await c.ami.action("QueueRemove", QUEUE_ADD[:2])


async def s09(c: Ctx) -> None:
    c.sim.agent("1001", answer_after=0.05)
    c.sim.agent("1002", answer_after=0.05, hangup_after=3.0)
    c.sim.agent("1003", registered=False)
    await c.at(1.55)
    await c.ami.action(
        "Originate",
        [
            ("Channel", "PJSIP/1002"),
            ("Context", "from-agents"),
            ("Exten", "1001"),
            ("Priority", "1"),
            ("Variable", "CAMPAIGN=spring,CONTACT_ID=42"),
            ("CallerID", '"Outbound" <5550200>'),
            ("Timeout", "20000"),
            ("Async", "true"),
        ],
    )
    await c.ami.wait(
        lambda m: get(m, "Event") == "Hangup" and (get(m, "Channel") or "").startswith("PJSIP/1001-")
    )
    await c.at(5.561)
    await c.ami.action(
        "Originate",
        [
            ("Channel", "PJSIP/1003"),
            ("Context", "from-agents"),
            ("Exten", "1001"),
            ("Priority", "1"),
            ("CallerID", '"Outbound" <5550200>'),
            ("Timeout", "10000"),
            ("Async", "true"),
        ],
    )
    await c.ami.wait(lambda m: get(m, "Event") == "OriginateResponse" and get(m, "Response") == "Failure")


async def s11(c: Ctx) -> None:
    c.sim.agent("1001", answer_after=0.05)
    await c.at(0.924)
    await c.ami.action("QueueAdd", QUEUE_ADD)
    call = c.sim.place_call(**CALLER, to="200", hangup_after=9.0)
    await call.placed.wait()
    await _connected(c, call.channel_id)
    name = call.name
    await c.at(2.543)
    await c.ami.action("MixMonitor", [("Channel", name), ("File", "cti-mix-11.wav"), ("Options", "")])
    await c.at(4.044)
    await c.ami.action("MixMonitorMute", [("Channel", name), ("Direction", "both"), ("State", "1")])
    await c.at(5.045)
    await c.ami.action("MixMonitorMute", [("Channel", name), ("Direction", "both"), ("State", "0")])
    await c.at(6.546)
    await c.ami.action("StopMixMonitor", [("Channel", name)])
    await call.done.wait()
    await c.at(11.047)
    await c.ami.action("QueueRemove", QUEUE_ADD[:2])


SCENARIOS.update(
    {
        "04-queue-answered": s04,
        "05-queue-abandoned": s05,
        "07-blind-transfer": s07,
        "09-originate-outbound": s09,
        "11-mixmonitor-mute": s11,
    }
)


# state carried over from the previous recording: 1001 was still a member when 07 started
# (its QueueAdd answered "Unable to add interface: Already there")
PRESETUP: dict[str, Callable[[Simulator], None]] = {
    "07-blind-transfer": lambda sim: sim.engine.queues.add("support", "PJSIP/1001", "Agent 1001"),
}


async def s12(c: Ctx) -> None:
    c.sim.agent("1001", answer_after=0.05)
    await c.at(0.619)
    await c.ami.action("QueueAdd", QUEUE_ADD)
    call = c.sim.place_call(**CALLER, to="200")
    await call.placed.wait()
    await _connected(c, call.channel_id)
    await c.at(2.736)
    restart = asyncio.ensure_future(c.sim.restart())
    await c.ami.closed.wait()
    await c.ari.closed.wait()
    assert not c.ari.close_frame, "Asterisk drops the ARI websocket without a close frame"
    after = AmiProbe()
    c.after = after
    while True:  # the driver reconnects every 0.1 s, as the recording driver did
        try:
            await after.connect(c.sim.ami_port)
            break
        except OSError:
            await c.clock.sleep(0.1)
    await after.wait_event("FullyBooted")
    await restart
    status, info = await c.ari.req("GET", "/asterisk/info")
    assert status == 200 and info["system"]["version"].startswith("22.")
    status, _ = await c.ari.req("GET", "/channels")
    assert call.done.is_set()
    await after.action("Logoff")
    await after.close()


SCENARIOS["12-asterisk-restart"] = s12


LOAD_AGENTS = tuple(str(n) for n in range(2001, 2025))


def load_config() -> dict[str, Any]:
    """Scenario 13's PBX: 24 load agents (static contacts) answering after 0.5–1.5 s, talking 3–6 s."""
    return {
        "endpoints": [
            *({"name": a, "callerid_name": f"Load Agent {a}", "callerid_num": a} for a in LOAD_AGENTS),
            {"name": "anonymous", "context": "from-external", "registered": False, "answer_after": None},
        ],
    }


async def s13(c: Ctx) -> None:
    import random

    rng = random.Random(13)
    for a in LOAD_AGENTS:
        handle = c.sim.agent(a, answer_after=1.0)
        handle.endpoint.answer_sampler = lambda: rng.uniform(0.5, 1.5)
        handle.endpoint.hangup_after = None
    await c.at(0.805)
    for a in LOAD_AGENTS:
        await c.ami.action(
            "QueueAdd",
            [
                ("Queue", "load"),
                ("Interface", f"PJSIP/{a}"),
                ("MemberName", f"Load Agent {a}"),
                ("StateInterface", f"PJSIP/{a}"),
                ("Penalty", "0"),
            ],
        )
    calls = []
    byes = []
    for n in range(240):  # 4 calls/s; each agent hangs up 3–6 s after answering
        await c.at(0.817 + n / 4)
        calls.append(
            c.sim.place_call(
                f"{n + 1}", f"Load Caller {n + 1}", to="201", endpoint="anonymous", dtmf_mode="rfc4733"
            )
        )
        talk = rng.uniform(3, 6)
        byes.append(asyncio.ensure_future(_agent_bye_after_answer(c, calls[-1], talk)))
    for call in calls:
        await call.done.wait()
    await asyncio.gather(*byes)
    for a in LOAD_AGENTS:
        await c.ami.action("QueueRemove", [("Queue", "load"), ("Interface", f"PJSIP/{a}")])


async def _agent_bye_after_answer(c: Ctx, call: Any, talk: float) -> None:
    """The sipp UAS answers and, ``talk`` s later, the agent side sends BYE."""
    await call.placed.wait()
    ch = call.channel
    connected = ch.tags["connected"]
    await connected.wait()
    await c.clock.sleep(talk)
    if ch.bridge is not None:
        agent = next((o for o in ch.bridge.channels if o is not ch), None)
        if agent is not None:
            c.sim.engine.hangup(agent)
