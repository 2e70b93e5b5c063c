"""Who is in which bridge, to name a channel's two-party peer as Asterisk's ``ast_channel_bridge_peer()`` does.

``ast_set_hangupsource()`` (main/channel.c) writes the hang-up source on the channel and on its bridge peer; a
peer exists only in a bridge of exactly two channels whose technology mixes one to one (``simple_bridge``,
``native_rtp``: ``ast_bridge_peer_nolock`` in main/bridge.c), not in a ``softmix`` conference nor a holding
bridge. AMI's ``BridgeEnter``/``BridgeLeave`` show the channels (``BridgeNumChannels``, ``BridgeTechnology``)
but not internal ones such as an ARI bridge's ``Recorder/…``; Asterisk's ``BRIDGEPEER`` variable, set on every
channel of a bridge after each change of its members (a comma list in a bridge of more than two), tells of those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_ONE_TO_ONE = frozenset({"softmix", "holding_bridge"})


@dataclass(slots=True)
class Bridge:
    members: set[str] = field(default_factory=set)  # uniqueids of the channels AMI showed entering
    count: int = 0  # BridgeNumChannels of its last event
    technology: str = ""
    listed: int = 0  # names in the last BRIDGEPEER set on one of its members (0: none seen)


class Bridges:
    __slots__ = ("_bridges",)

    def __init__(self) -> None:
        self._bridges: dict[str, Bridge] = {}

    def __len__(self) -> int:
        return len(self._bridges)

    def enter(self, bridge_id: str, uid: str, technology: str | None, count: str | None) -> None:
        b = self._bridges.get(bridge_id)
        if b is None:
            b = self._bridges[bridge_id] = Bridge()
        b.members.add(uid)
        self._update(b, technology, count)

    def leave(self, bridge_id: str, uid: str, technology: str | None, count: str | None) -> None:
        b = self._bridges.get(bridge_id)
        if b is None:
            return
        b.members.discard(uid)
        if not b.members:
            del self._bridges[bridge_id]
            return
        self._update(b, technology, count)

    def destroy(self, bridge_id: str) -> None:
        self._bridges.pop(bridge_id, None)

    def forget(self, uid: str, bridge_ids: set[str]) -> None:
        """A channel that hung up without a ``BridgeLeave`` (lost events)."""
        for bridge_id in bridge_ids:
            self.leave(bridge_id, uid, None, None)

    def bridge_peer(self, uid: str, bridge_ids: set[str], value: str) -> None:
        """``BRIDGEPEER`` set on ``uid``: how many channels its bridge holds besides it."""
        listed = value.count(",") + 1 if value else 0
        for bridge_id in bridge_ids:
            b = self._bridges.get(bridge_id)
            if b is not None and uid in b.members:
                b.listed = listed

    def peer(self, uid: str, bridge_ids: set[str]) -> str | None:
        """The uniqueid of ``uid``'s two-party peer, or None."""
        for bridge_id in bridge_ids:
            b = self._bridges.get(bridge_id)
            if (
                b is None
                or uid not in b.members
                or len(b.members) != 2
                or b.count > 2
                or b.listed > 1
                or b.technology in NOT_ONE_TO_ONE
            ):
                continue
            return next(x for x in b.members if x != uid)
        return None

    @staticmethod
    def _update(b: Bridge, technology: str | None, count: str | None) -> None:
        if technology:
            b.technology = technology
        try:
            b.count = int(count) if count else len(b.members)
        except ValueError:
            b.count = len(b.members)
        b.listed = 0  # Asterisk sets BRIDGEPEER again after every change of members
