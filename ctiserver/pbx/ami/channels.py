"""The PBX's channels now, as ``CoreShowChannels`` lists them: one ``CoreShowChannel`` event per channel, ended by
``CoreShowChannelsComplete`` (manager_channels.c ``action_coreshowchannels``).

What a component that missed events during an AMI outage asks after the reconnect: is a channel still there, is it
in a bridge (``BridgeId``), which application runs on it (``Application``: ``Stasis`` while an ARI application
holds it).

After a login the call tracker, the recordings, the dialler's lines and its desk all ask at once. One
``CoreShowChannels`` goes to the PBX and every asker gets its answer: the askers that come while it is under way
join it (until session 32 each sent its own — four full channel lists per reconnect, on a PBX with thousands of
channels megabytes of events each). Joining is sound: an asker that joins after the action was sent has seen, on
the live link, every event since, and the list is no older than the action."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList

Channels = dict[str, AmiEvent]
TIMEOUT = 30.0  # s at least, the shared action's: the longest any asker wanted (the tracker's resync)
_ASKED: weakref.WeakKeyDictionary[Any, asyncio.Future[Channels]] = weakref.WeakKeyDictionary()


async def live_channels(ami: Any, timeout: float | None = None) -> Channels:  # noqa: ASYNC109
    """Every channel's ``CoreShowChannel`` event by ``Uniqueid`` (in the PBX's order), from ``ami`` (an
    ``AmiClient``). Raises ``AmiError`` (``AmiActionError`` when the PBX refuses, e.g. without the
    ``system``/``reporting`` read class): an empty answer is never guessed. The action is shared by whoever asks
    while it is under way, under the longer of ``timeout`` and ``TIMEOUT`` (on the link's injected clock)."""
    asked = _ASKED.get(ami)
    if asked is None or asked.done():
        asked = _ASKED[ami] = asyncio.ensure_future(_ask(ami, max(timeout or 0.0, TIMEOUT)))
    return await asyncio.shield(asked)  # an asker cancelled does not cancel the others' action


async def _ask(ami: Any, timeout: float) -> Channels:  # noqa: ASYNC109
    result = await ami.action("CoreShowChannels", [], timeout=timeout, check=True)
    events = result.events if isinstance(result, AmiEventList) else ()
    return {e.get("Uniqueid") or "": e for e in events if e.name == "CoreShowChannel"}


def in_stasis(channel: AmiEvent) -> bool:
    """The channel is held by an ARI application (the dialplan's ``Stasis()`` runs on it)."""
    return (channel.get("Application") or "").lower() == "stasis"
