"""The PBX's channels now, as ``CoreShowChannels`` lists them: one ``CoreShowChannel`` event per channel, ended by
``CoreShowChannelsComplete`` (manager_channels.c ``action_coreshowchannels``).

What a component that missed events during an AMI outage asks after the reconnect: is a channel still there, is it
in a bridge (``BridgeId``), which application runs on it (``Application``: ``Stasis`` while an ARI application
holds it).

After a login the call tracker, the recordings, the dialler's lines and its desk all ask at once, each to
reconcile what it missed during the outage. Such an asker (``share=True``) needs only a list taken on the current
login — its own actions were on an earlier one, and every event since the login reached it on the live link — so
it joins the action under way on that login: one ``CoreShowChannels`` answers them all (until session 32 each sent
its own — four full channel lists per reconnect, on a PBX with thousands of channels megabytes of events each).
An asker that follows an action of its own (a ``Redirect`` that timed out: did it run?) needs a list taken after
that action, and sends its own: a list asked for before the action would show the channel where it was, and the
action would be sent twice."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList

Channels = dict[str, AmiEvent]
TIMEOUT = 30.0  # s at least, a shared action's: the longest any sharing asker wanted (the tracker's resync)
_ASKED: weakref.WeakKeyDictionary[Any, tuple[int, asyncio.Future[Channels]]] = weakref.WeakKeyDictionary()


async def live_channels(ami: Any, timeout: float | None = None, *, share: bool = False) -> Channels:  # noqa: ASYNC109
    """Every channel's ``CoreShowChannel`` event by ``Uniqueid`` (in the PBX's order), from ``ami`` (an
    ``AmiClient``). Raises ``AmiError`` (``AmiActionError`` when the PBX refuses, e.g. without the
    ``system``/``reporting`` read class): an empty answer is never guessed. ``share``: a list taken on the link's
    current login will do — join the action under way on it, if any (then under the longer of ``timeout`` and
    ``TIMEOUT``, on the link's injected clock)."""
    login = ami.logins
    held = _ASKED.get(ami)
    if share and held is not None and held[0] == login and not held[1].done():
        return await asyncio.shield(held[1])  # an asker cancelled does not cancel the others' action
    if not share:
        return await _ask(ami, timeout)
    asked = asyncio.ensure_future(_ask(ami, max(timeout or 0.0, TIMEOUT)))
    _ASKED[ami] = (login, asked)  # sent on this login or later: good for whoever shares on it
    return await asyncio.shield(asked)


async def _ask(ami: Any, timeout: float | None) -> Channels:  # noqa: ASYNC109
    result = await ami.action("CoreShowChannels", [], timeout=timeout, check=True)
    events = result.events if isinstance(result, AmiEventList) else ()
    return {e.get("Uniqueid") or "": e for e in events if e.name == "CoreShowChannel"}


def in_stasis(channel: AmiEvent) -> bool:
    """The channel is held by an ARI application (the dialplan's ``Stasis()`` runs on it)."""
    return (channel.get("Application") or "").lower() == "stasis"
