"""Outgoing channels to endpoints (ARI/AMI originate, Dial, Queue) and the simulated far end (the
agent's phone:
ringing, answering after a delay, hanging up after a talk time)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctiserver.sim.fmt import chan_headers, channel_json
from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

DIAL_APP = ("AppDial2", "(Outgoing Line)")


def dial_out(
    engine: Engine,
    endpoint: str,
    *,
    caller: tuple[str, str] | None = None,
    connected: tuple[str, str] = ("", ""),
    linkedid: str | None = None,
    exten: str = "s",
    context: str | None = None,
    channel_id: str | None = None,
    app: tuple[str, str] = DIAL_APP,
    other_id: str | None = None,
) -> Channel:
    """Allocate the outgoing channel (Down). Raises AllocationFailed when the endpoint cannot be reached."""
    from ctiserver.sim.engine import AllocationFailed

    if endpoint.startswith("Local/"):
        from ctiserver.sim import local

        ch = local.allocate(
            engine,
            endpoint,
            caller=caller,
            connected=connected,
            linkedid=linkedid,
            channel_id=channel_id,
            other_id=other_id,
        )
        engine.newexten(ch, *app)
        return ch
    trunk = engine.trunks.split(endpoint)  # PJSIP/<number>@trunk: the channel is the trunk's
    ep = engine.endpoints.get(trunk[0] if trunk else endpoint)
    if ep is None or not ep.registered:
        raise AllocationFailed(endpoint)
    own = (ep.callerid_name, ep.callerid_num)
    ch = engine.new_channel(
        ep.name,
        context=context or ep.context,
        exten="s",
        state=ChanState.DOWN,
        caller=own,
        linkedid=linkedid,
        channel_id=channel_id,
    )
    if trunk:
        ch.tags["dialled"] = trunk[1]
    ch.exten = exten
    engine.newexten(ch, *app)
    engine.set_connected(ch, *connected) if connected != ("", "") else None
    if caller is not None and caller != own and caller != ("", ""):
        ch.caller_name, ch.caller_num = caller
        engine.ami_chan("NewCallerid", ch, [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
    return ch


def dial_event(
    engine: Engine,
    name: str,
    peer: Channel,
    dialstring: str,
    *,
    caller: Channel | None = None,
    status: str | None = None,
) -> None:
    """DialBegin/DialState/DialEnd on AMI and the matching ARI ``Dial`` event — none for a Local channel whose
    ``local_call`` fails (dial.c publishes nothing when ``ast_call`` fails)."""
    if peer.tech == "Local":
        from ctiserver.sim import local

        if local.call_fails(engine, peer):
            return
    body = (chan_headers(caller) if caller else []) + chan_headers(peer, "Dest")
    if name == "DialBegin":
        body.append(("DialString", dialstring))
    else:
        body.append(("DialStatus", status or ""))
    engine.hub.ami(name, "call,all", body)
    if caller is not None and status:
        engine.cel.dial(caller, status)  # cel.c cel_dial_cb (the dial message's "caller")
    apps = set(peer.subscribed) | (set(caller.subscribed) if caller else set())
    fields: list[tuple[str, object]] = [
        ("dialstatus", status or ""),
        ("forward", ""),
        ("dialstring", dialstring),
    ]
    if caller is not None:
        fields.append(("caller", channel_json(caller)))
    fields.append(("peer", channel_json(peer)))
    engine.hub.ari("Dial", apps, fields)


def start_far_end(engine: Engine, ch: Channel, *, on_ringing: object = None) -> None:
    """The phone behind ``ch`` rings at once, answers after its endpoint's ``answer_after`` (None: only
    when the
    script answers), and hangs up after ``hangup_after`` seconds of talk (if set)."""
    if ch.tech == "Local":
        from ctiserver.sim import local

        local.start(engine, ch)
        return
    if "dialled" in ch.tags:
        from ctiserver.sim import trunk

        party = engine.trunks.party(ch.endpoint, ch.tags["dialled"])
        ch.tags["far_end"] = trunk.start(engine, ch, party)
        return
    ep = engine.endpoints[ch.endpoint]
    answer_after = ep.answer_sampler() if ep.answer_sampler is not None else ep.answer_after
    if ep.auto_answer and asks_auto_answer(ch):
        answer_after = 0.0
    ch.tags["far_end"] = engine.spawn(
        far_end(engine, ch, answer_after, ep.hangup_after), name=f"sim:far:{ch.name}"
    )


async def far_end(
    engine: Engine, ch: Channel, answer_after: float | None, hangup_after: float | None
) -> None:
    """The phone rings, answers after ``answer_after`` s (None: never by itself), talks ``hangup_after`` s."""
    await asyncio.sleep(0)
    if ch.hung_up or ch.hangup_requested:
        return
    ringing = ch.tags.get("on_ringing")
    engine.set_state(ch, ChanState.RINGING)
    if callable(ringing):
        ringing(ch)
    ch.ringing_since = engine.clock.now()
    if answer_after is None:
        return
    await engine.clock.sleep(answer_after)
    if ch.hung_up or ch.hangup_requested:
        return
    answer(engine, ch, hangup_after)


def answer(engine: Engine, ch: Channel, hangup_after: float | None = None) -> None:
    """The far end answers (200 OK); it hangs up after ``hangup_after`` (default: its endpoint's) seconds of
    talk."""
    if ch.state == ChanState.UP or ch.hung_up:
        return
    engine.set_state(ch, ChanState.UP)
    cb = ch.tags.get("on_answer")
    if callable(cb):
        cb(ch)
    if hangup_after is None:
        ep = engine.endpoints.get(ch.endpoint)
        hangup_after = ep.hangup_after if ep is not None else None
    if hangup_after is not None:
        engine.spawn(_bye_after(engine, ch, hangup_after), name=f"sim:bye:{ch.name}")


async def _bye_after(engine: Engine, ch: Channel, seconds: float) -> None:
    await engine.clock.sleep(seconds)
    if not ch.hung_up and not ch.hangup_requested:
        engine.hangup(ch)


_AUTO_ANSWER = (("call-info", "answer-after="), ("alert-info", "autoanswer"), ("alert-info", "intercom"))


def asks_auto_answer(ch: Channel) -> bool:
    """The INVITE asks the phone to answer by itself: a ``PJSIP_HEADER(add,Call-Info)`` channel variable with
    ``answer-after=``, or ``PJSIP_HEADER(add,Alert-Info)`` naming auto-answer (``info=alert-autoanswer``, "Auto
    Answer") or intercom — what the ACD adds for an agent with ``auto_answer`` (``acd.auto_answer_header``).
    Softphones and desk phones with auto-answer enabled honour it; the endpoint's ring delay then does not apply."""
    for name, value in ch.variables.items():
        key = name.replace(" ", "").lower()
        if key.startswith("pjsip_header(add,") and key.endswith(")"):
            header = key[len("pjsip_header(add,") : -1]
            text = value.lower().replace("-", "").replace(" ", "") if header == "alert-info" else value.lower()
            if any(header == h and token in text for h, token in _AUTO_ANSWER):
                return True
    return False
