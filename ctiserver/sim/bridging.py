"""Bridges: create, enter, leave, destroy — with BridgeCreate/Enter/Leave/Destroy (AMI) and
ChannelEnteredBridge/ChannelLeftBridge/BridgeDestroyed (ARI)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ctiserver.sim.fmt import bridge_headers, bridge_json, chan_headers
from ctiserver.sim.model import Bridge, Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine


def members(br: Bridge) -> int:
    return len(br.channels) + (1 if br.recording is not None else 0)


def create(
    engine: Engine,
    *,
    bridge_type: str = "mixing",
    bridge_class: str = "stasis",
    name: str = "",
    bridge_id: str | None = None,
    app: str | None = None,
) -> Bridge:
    bid = bridge_id or str(uuid.UUID(int=engine.rng.getrandbits(128)))
    creator = "Stasis" if bridge_class == "stasis" else ""
    br = Bridge(
        id=bid,
        bridge_type=bridge_type,
        bridge_class=bridge_class,
        creator=creator,
        name=name,
        created=engine.clock.now(),
        video_mode="talker" if bridge_class == "stasis" else "none",
    )
    if app:
        br.subscribed.add(app)
    engine.bridges[bid] = br
    engine.hub.ami("BridgeCreate", "call,all", bridge_headers(br))
    engine.hub.ari("BridgeCreated", set(br.subscribed), [("bridge", bridge_json(br))])
    return br


def _apps(br: Bridge, ch: Channel) -> set[str]:
    """ChannelEnteredBridge/ChannelLeftBridge go out on the bridge's topic only (main/stasis_bridges.c
    ast_bridge_publish_enter/leave), and an app subscribed to a channel forwards only that channel's topics
    (res/stasis/app.c forwards_create_channel): the apps subscribed to the bridge get them, plus the app the
    channel is in (res/stasis/control.c control_add_channel_to_bridge: app_subscribe_bridge "to receive the
    ChannelEnteredBridge message") — not an app that merely subscribed to the channel (an originated Local ;2
    in its Dial bridge)."""
    return br.subscribed | ({ch.stasis_app} if ch.stasis_app else set())


def enter(engine: Engine, br: Bridge, ch: Channel) -> None:
    if ch.bridge is br:
        return
    if ch.bridge is not None:
        leave(engine, ch)
    if ch.moh_class is not None:
        from ctiserver.sim.media import moh_stop

        moh_stop(engine, ch)
    br.channels.append(ch)
    ch.bridge = br
    engine.cel.emit(
        "BRIDGE_ENTER", ch, extra=f'{{"bridge_id":"{br.id}","bridge_technology":"{br.technology}"}}'
    )
    engine.hub.ami("BridgeEnter", "call,all", bridge_headers(br) + chan_headers(ch))
    engine.hub.ari("ChannelEnteredBridge", _apps(br, ch), [("bridge", bridge_json(br)), ("channel", _cj(ch))])
    if len(br.channels) >= 2:
        for c in br.channels:
            ev = c.tags.get("connected")
            if ev is not None:
                ev.set()
    if len(br.channels) == 2:
        a, b = br.channels
        engine.set_var(a, "BRIDGEPEER", b.name)
        engine.set_var(b, "BRIDGEPEER", a.name)
        engine.set_connected(a, b.caller_name, b.caller_num)
        engine.set_connected(b, a.caller_name, a.caller_num)


def _cj(ch: Channel) -> dict[str, object]:
    from ctiserver.sim.fmt import channel_json

    return channel_json(ch)


def leave(engine: Engine, ch: Channel) -> None:
    br = ch.bridge
    if br is None:
        return
    before = members(br)
    tech = "softmix" if before > 2 else br.technology
    br.channels.remove(ch)
    ch.bridge = None
    engine.set_var(ch, "BRIDGEPEER", "")
    engine.cel.emit("BRIDGE_EXIT", ch, extra=f'{{"bridge_id":"{br.id}","bridge_technology":"{tech}"}}')
    engine.hub.ami("BridgeLeave", "call,all", bridge_headers(br, tech) + chan_headers(ch))
    engine.hub.ari(
        "ChannelLeftBridge", _apps(br, ch), [("bridge", bridge_json(br, tech)), ("channel", _cj(ch))]
    )
    if br.bridge_class == "basic" and not br.destroyed:
        # a dialplan (Dial/Queue) bridge dissolves: the other party is hung up, then the bridge goes away
        for other in list(br.channels):
            engine.hangup(other, 16, dissolve=True)
        if not br.channels:
            destroy(engine, br)


def destroy(engine: Engine, br: Bridge) -> None:
    if br.destroyed:
        return
    for ch in list(br.channels):
        leave(engine, ch)
    br.destroyed = True
    if br.recording is not None:
        from ctiserver.sim.media import recording_stop

        recording_stop(engine, br.recording)
    engine.bridges.pop(br.id, None)
    engine.hub.ami("BridgeDestroy", "call,all", bridge_headers(br))
    engine.hub.ari("BridgeDestroyed", set(br.subscribed), [("bridge", bridge_json(br))])
