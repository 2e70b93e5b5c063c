"""Local channels: ``Local/<exten>@<context>`` allocates the pair ``…-0000000a;1`` (the dialled side,
returned to the originator) and ``…;2`` (runs the dialplan at exten@context). ``;1`` rings at once and is
answered when ``;2`` is answered; hanging up either half hangs up the other. The allocation never looks at the
dialplan; calling does (core_local.c ``local_call``): for an extension that does not exist the call fails
before anything rings — no Dial events (dial.c publishes none when ``ast_call`` fails), both halves gone with
no cause set (0)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine


def parse(endpoint: str) -> tuple[str, str]:
    target = endpoint[len("Local/") :].split("/", 1)[0]
    exten, _, context = target.partition("@")
    return exten, context or "default"


def peer_id(channel_id: str | None, other_id: str | None) -> str | None:
    """The uniqueid of ``;2`` (core_unreal.c ``ast_unreal_new_channels``): assigned ids apply only when the
    first one is given — ``otherChannelId`` (assignedids->uniqueid2) if given, else ``<channelId>;2``;
    without a ``channelId`` both halves get generated ids of their own and ``otherChannelId`` is ignored."""
    if not channel_id:
        return None
    return other_id or f"{channel_id};2"


def allocate(
    engine: Engine,
    endpoint: str,
    *,
    caller: tuple[str, str] | None,
    connected: tuple[str, str],
    linkedid: str | None,
    channel_id: str | None,
    other_id: str | None = None,
) -> Channel:
    exten, context = parse(endpoint)
    if not exten:
        from ctiserver.sim.engine import AllocationFailed

        raise AllocationFailed(endpoint)
    base = f"Local/{exten}@{context}-{engine.next_chan_idx():08x}"
    cid = caller or ("", "")
    one = engine.new_channel(
        endpoint,
        context=context,
        exten=exten,
        caller=cid,
        connected=connected,
        linkedid=linkedid,
        channel_id=channel_id,
        name=f"{base};1",
    )
    two = engine.new_channel(
        endpoint,
        context=context,
        exten=exten,
        state=ChanState.RING,
        caller=connected if connected != ("", "") else cid,
        connected=cid,
        linkedid=one.linkedid,
        channel_id=peer_id(channel_id, other_id),
        name=f"{base};2",
    )
    two.tags["dnid"] = exten
    one.tags["local_peer"], two.tags["local_peer"] = two, one
    # ast_unreal_hangup: the other half is hung up with the cause of the half that went
    engine.on_hangup(one, lambda _: engine.hangup(two, _passed(one), dissolve=True))
    engine.on_hangup(two, lambda _: engine.hangup(one, _passed(two), dissolve=True))
    return one


def _passed(half: Channel) -> int:
    return half.hangup_cause if half.tags.get("call_failed") else (half.hangup_cause or 16)


def call_fails(engine: Engine, ch: Channel) -> bool:
    """``ch`` is a Local ``;1`` whose call fails (or failed) in ``local_call``: no such extension/context."""
    if ch.tags.get("call_failed"):
        return True
    two = ch.tags.get("local_peer") if ch.tech == "Local" and ch.name.endswith(";1") else None
    return isinstance(two, Channel) and not two.tags.get("ran") and engine.dialplan.find(two.context, two.exten) is None


def start(engine: Engine, one: Channel) -> None:
    one.tags["far_end"] = engine.spawn(_run(engine, one), name=f"sim:local:{one.name}")


async def _run(engine: Engine, one: Channel) -> None:
    from ctiserver.sim.dial import answer

    two: Channel = one.tags["local_peer"]
    await asyncio.sleep(0)
    if one.hangup_requested:
        return
    if call_fails(engine, one):  # "No such extension/context … while calling Local channel"
        one.tags["call_failed"] = two.tags["call_failed"] = True
        engine.hangup(one, 0, request=False)
        return
    two.tags["ran"] = True
    # local_call(): the ;1 half's variables (the originator's, e.g. Originate's Variable headers) are copied
    # to ;2 as they are, in order, before ;2 runs the dialplan (no VarSet: they are not set, only copied)
    for name, value in one.variables.items():
        two.variables.setdefault(name, value)
    engine.dialplan.start(two)
    engine.set_state(one, ChanState.RINGING)
    ringing = one.tags.get("on_ringing")
    if callable(ringing):
        ringing(one)
    answered = asyncio.ensure_future(two.answered.wait())
    gone = asyncio.ensure_future(two.done.wait())
    try:
        await asyncio.wait({answered, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        answered.cancel()
        gone.cancel()
    if two.answered.is_set() and not one.hangup_requested:
        answer(engine, one)
