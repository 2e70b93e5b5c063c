"""Calls an earlier run of the daemon left in our Stasis application (it was killed or crashed: a graceful stop
hangs its calls up itself).

Asterisk keeps such channels in the application — the dialplan's ``Stasis()`` has not returned — but no handler of
this run holds them: a caller would sit in silence, and when one party of a conversation hangs up, the other would
stay in a bridge nobody destroys. Once the daemon has started and its events socket is up, each channel in our
Stasis that this run does not hold is taken care of:

* **in a conversation** (a bridge with another channel of our application): it goes on; when a party leaves the
  bridge (hangs up), the others are hung up and the bridge destroyed — what the handler that lost it would have
  done;
* **alone** (in the IVR, waiting in a queue, on hold, alone in a bridge — a bridge of an earlier run with no
  conversation left in it is destroyed first, which also ends a bridge recording running in it): a caller who
  came in on a DID (``Stasis(<app>,did,…)``) is routed again as a new call — the IVR from its start rather than
  silence; any other leg (an agent's, a dialler's answered attempt: its handler's state is gone with the
  earlier run) is hung up.

Later reconnections of the same run are the call control's ``resync``: the run still holds its calls then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from ctiserver.control import ControlError
from ctiserver.logs import get_logger
from ctiserver.pbx.ari.client import AriResync
from ctiserver.pbx.ari.resources import Channel, build

log = get_logger(__name__)

REROUTED = frozenset({"did"})  # Stasis kinds routed again when left alone; the others are hung up


class Control(Protocol):
    """What of ``AriCallControl`` this needs."""

    app: str

    def holds(self, channel_id: str) -> bool: ...

    def left_behind(self, bridge_id: str) -> bool: ...

    def reroute(self, channel: Mapping[str, Any], args: tuple[str, ...]) -> None: ...

    async def rest(self, method: str, path: str) -> Any: ...


class Orphans:
    def __init__(self, control: Control) -> None:
        self.control = control
        self.talks: dict[str, set[str]] = {}  # bridge id → its channels of our application still in it
        self._tasks: set[asyncio.Task[None]] = set()

    def sweep_after(self, started: asyncio.Event, connected: asyncio.Event) -> None:
        """``sweep`` in the background once the daemon's handlers are registered (``started``) and the events
        socket is up (``connected``): the channels then in our ``Stasis()`` that this run does not hold."""

        async def later() -> None:
            await started.wait()
            await connected.wait()
            try:
                raw = {str(c["id"]): c for c in await self.control.rest("GET", "/channels") or ()}
                app = await self.control.rest("GET", f"/applications/{self.control.app}") or {}
                ids = frozenset(str(c) for c in app.get("channel_ids", ()))
                channels = tuple(build(Channel, c) for c in raw.values())
                await self.sweep([raw[c.id] for c in AriResync(1, channels, ids, self.control.app).in_stasis])
            except ControlError as exc:
                log.warning("calls left by an earlier run not taken care of", error=str(exc))

        self._spawn(later())

    async def sweep(self, in_stasis: Collection[Mapping[str, Any]]) -> None:
        """``in_stasis``: the channels running our ``Stasis()`` now, as ARI gives them."""
        ours = {str(c["id"]): c for c in in_stasis}
        orphans = {cid: c for cid, c in ours.items() if not self.control.holds(cid)}
        talking: set[str] = set()
        dropped: list[str] = []
        for bridge in await self.control.rest("GET", "/bridges") or ():
            bridge_id = str(bridge["id"])
            members = {str(c) for c in bridge.get("channels", ())} & ours.keys()
            if len(members) >= 2 and members & orphans.keys():
                self.talks[bridge_id] = members
                talking |= members
            elif self.control.left_behind(bridge_id):
                # no conversation left in it: its parties hung up while no run held them (a bridge recording
                # would run on for ever in it), or one is alone in it — taken care of below, out of the bridge
                dropped.append(bridge_id)
                with contextlib.suppress(ControlError):  # gone already
                    await self.control.rest("DELETE", f"/bridges/{bridge_id}")
        if not orphans and not dropped:
            return
        log.warning(
            "calls left in Stasis by an earlier run",
            talking=sorted(talking & orphans.keys()),
            alone=sorted(orphans.keys() - talking),
            bridges_destroyed=dropped,
        )
        for cid, channel in orphans.items():
            if cid in talking:
                continue
            args = tuple(str((channel.get("dialplan") or {}).get("app_data") or "").split(",")[1:])
            if args and args[0] in REROUTED:
                self.control.reroute(channel, args)
            else:
                self._spawn(self._hang_up([cid]))

    def feed(self, event: Mapping[str, Any]) -> None:
        """Every ARI event: a party leaving an orphaned conversation ends it."""
        if not self.talks or event.get("type") not in ("ChannelLeftBridge", "StasisEnd", "ChannelDestroyed"):
            return
        cid = str((event.get("channel") or {}).get("id") or "")
        for bridge_id, members in list(self.talks.items()):
            if cid in members:
                members.discard(cid)
                if len(members) < 2:
                    del self.talks[bridge_id]
                    self._spawn(self._end(bridge_id, members))

    async def _end(self, bridge_id: str, left: set[str]) -> None:
        await self._hang_up(left)
        with contextlib.suppress(ControlError):  # gone already
            await self.control.rest("DELETE", f"/bridges/{bridge_id}")
        log.info("orphaned conversation ended", bridge=bridge_id, hung_up=sorted(left))

    async def _hang_up(self, channels: Collection[str]) -> None:
        for cid in channels:
            with contextlib.suppress(ControlError):  # it hung up meanwhile
                await self.control.rest("DELETE", f"/channels/{cid}")

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work, name="cti:orphans")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
