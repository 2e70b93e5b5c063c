"""The PBX's channels now, as ``CoreShowChannels`` lists them: one ``CoreShowChannel`` event per channel, ended by
``CoreShowChannelsComplete`` (manager_channels.c ``action_coreshowchannels``).

What a component that missed events during an AMI outage asks after the reconnect: is a channel still there, is it
in a bridge (``BridgeId``), which application runs on it (``Application``: ``Stasis`` while an ARI application
holds it)."""

from __future__ import annotations

from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList


async def live_channels(ami: AmiClient, timeout: float | None = None) -> dict[str, AmiEvent]:  # noqa: ASYNC109
    """Every channel's ``CoreShowChannel`` event by ``Uniqueid``. Raises ``AmiError`` (``AmiActionError`` when the
    PBX refuses, e.g. without the ``system``/``reporting`` read class): an empty answer is never guessed."""
    result = await ami.action("CoreShowChannels", [], timeout=timeout, check=True)
    events = result.events if isinstance(result, AmiEventList) else ()
    return {e.get("Uniqueid") or "": e for e in events if e.name == "CoreShowChannel"}


def in_stasis(channel: AmiEvent) -> bool:
    """The channel is held by an ARI application (the dialplan's ``Stasis()`` runs on it)."""
    return (channel.get("Application") or "").lower() == "stasis"
