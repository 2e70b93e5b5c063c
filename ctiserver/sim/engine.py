"""The simulated PBX core: channels, their life cycle and the events each step emits (AMI and ARI).

Hangup is one synchronous sequence, so the event order is fixed and matches Asterisk 22: RTP QoS variables →
(Soft)HangupRequest → leave bridge → leave Stasis → the holder's hooks (queue abandon, dial cancel) →
Cdr/CEL →
Hangup → ChannelDestroyed → DeviceStateChange. CEL's end records (``HANGUP``, ``CHAN_END``, ``LINKEDID_END``)
come from their own stasis subscriber on a real Asterisk and may trail the ``Hangup`` (trace 13: a third of the
legs, often after the call's last ``Hangup``): ``cel_after_hangup`` sends them once the hang-up sequence (and
the hang-ups it sets off: the bridge peer, the other Local half) is over.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.sim import dtmf, hangup_source
from ctiserver.sim.cel import Cel
from ctiserver.sim.config import SimConfig
from ctiserver.sim.fmt import chan_headers, channel_json
from ctiserver.sim.hub import Hub
from ctiserver.sim.model import (
    CAUSE_TEXT,
    Bridge,
    Channel,
    ChanState,
    Endpoint,
    LiveRecording,
    Playback,
    var_key,
)

QOS_VARS = (
    (
        "RTPAUDIOQOS",
        "ssrc=1179889029;themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=93;"
        "rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000",
    ),
    (
        "RTPAUDIOQOSJITTER",
        "minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;"
        "stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;"
        "avgtxjitter=000.000000;stdevtxjitter=000.000000;",
    ),
    (
        "RTPAUDIOQOSLOSS",
        "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  "
        "stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  "
        "avgtxlost=000.000000;  stdevtxlost=000.000000;",
    ),
    (
        "RTPAUDIOQOSRTT",
        "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;",
    ),
    (
        "RTPAUDIOQOSMES",
        "   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   "
        "stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   "
        "avgtxmes=000.000000;   stdevtxmes=000.000000;",
    ),
)

log = get_logger(__name__)

HangupHook = Callable[[Channel], None]


class AllocationFailed(Exception):
    """The endpoint cannot take a call (not registered / unknown)."""


class Engine:
    def __init__(self, config: SimConfig, clock: Clock, hub: Hub, seed: int = 1) -> None:
        self.config = config
        self.clock = clock
        self.hub = hub
        self.rng = random.Random(seed)
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.playbacks: dict[str, Playback] = {}
        self.recordings: dict[str, LiveRecording] = {}
        self.stored: dict[str, tuple[str, str]] = {}  # name -> (format, path)
        self.wav_tasks: dict[str, asyncio.Task[Any]] = {}  # recordings being written
        self.endpoints: dict[str, Endpoint] = {}
        self._seq = 0
        # channel names count apart from uniqueids and from 0 in each Asterisk process (chan_pjsip's static
        # chan_idx): after a restart ``PJSIP/1001-00000000`` comes again, under a new uniqueid
        self._chan_idx = 0
        self._linked: dict[str, int] = {}
        self._hooks: dict[str, list[HangupHook]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.cel = Cel(hub)
        self.cel_after_hangup = False  # CEL end records after the AMI Hangup (Simulator.cel_after_hangup)
        self._late_cel: list[list[tuple[str, str]]] = []
        from ctiserver.sim.dialplan import Dialplan
        from ctiserver.sim.queue import Queues

        self.dialplan = Dialplan(self)
        self.queues = Queues(self)
        self.booted_at = clock.now()
        for ep in config.endpoints:
            self.endpoints[f"PJSIP/{ep.name}"] = Endpoint(
                resource=ep.name,
                callerid_name=ep.callerid_name,
                callerid_num=ep.callerid_num,
                context=ep.context,
                registered=ep.registered,
                answer_after=ep.answer_after,
                hangup_after=ep.hangup_after,
            )
        from ctiserver.sim.trunk import Trunks

        self.trunks = Trunks(config.trunks)
        for t in config.trunks:
            self.endpoints[f"PJSIP/{t.name}"] = Endpoint(resource=t.name, context=t.context, registered=True)
        for ep_obj in self.endpoints.values():
            ep_obj.last_device_state = ep_obj.device_state()

    # -- tasks -------------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "sim") -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_for(self, fut: asyncio.Future[Any], limit: float | None) -> Any:
        """``asyncio.wait_for`` on the simulator's clock (raises TimeoutError; ``fut`` is not cancelled)."""
        if limit is None:
            return await asyncio.shield(fut)
        sleeper = asyncio.ensure_future(self.clock.sleep(limit))
        try:
            await asyncio.wait({fut, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
        if fut.done():
            return fut.result()
        raise TimeoutError

    def next_seq(self) -> int:
        n = self._seq
        self._seq += 1
        return n

    def next_chan_idx(self) -> int:
        n = self._chan_idx
        self._chan_idx += 1
        return n

    def new_id(self) -> str:
        return f"{self.config.systemname}-{int(self.clock.now())}.{self.next_seq()}"

    # -- events ------------------------------------------------------------------------------------
    def ami_chan(
        self, event: str, ch: Channel, extra: list[tuple[str, str]] | None = None, privilege: str = "call,all"
    ) -> None:
        self.hub.ami(event, privilege, chan_headers(ch) + (extra or []))

    def ari_chan(
        self,
        type_: str,
        ch: Channel,
        body: list[tuple[str, Any]] | None = None,
        pre: list[tuple[str, Any]] | None = None,
        after: list[tuple[str, Any]] | None = None,
    ) -> None:
        if not ch.subscribed and not self.hub.ari_sinks:
            return
        self.hub.ari(
            type_, ch.subscribed, [*(body or ()), ("channel", channel_json(ch)), *(after or ())], pre
        )

    def device_state(self, endpoint: Endpoint) -> None:
        state = endpoint.device_state()
        if state == endpoint.last_device_state:
            return
        endpoint.last_device_state = state
        self.hub.ami("DeviceStateChange", "call,all", [("Device", endpoint.name), ("State", state)])
        self.queues.device_changed(endpoint.name)
        self.hub.ari("DeviceStateChanged", set(), [("device_state", {"name": endpoint.name, "state": state})])

    def endpoint(self, name: str) -> Endpoint:
        ep = self.endpoints.get(name)
        if ep is None:
            tech, _, res = name.partition("/")
            ep = self.endpoints[name] = Endpoint(
                resource=res or tech, tech=tech if res else "PJSIP", registered=False, answer_after=None
            )
        return ep

    # -- channel life cycle ------------------------------------------------------------------------
    def new_channel(
        self,
        endpoint: str,
        *,
        context: str,
        exten: str,
        state: ChanState = ChanState.DOWN,
        caller: tuple[str, str] = ("", ""),
        connected: tuple[str, str] = ("", ""),
        linkedid: str | None = None,
        channel_id: str | None = None,
        app: tuple[str, str] = ("", ""),
        dtmf_mode: str = "rfc4733",
        name: str | None = None,
    ) -> Channel:
        seq = self.next_seq()
        uid = channel_id or f"{self.config.systemname}-{int(self.clock.now())}.{seq}"
        ch = Channel(
            id=uid,
            name=name or f"{endpoint}-{self.next_chan_idx():08x}",
            linkedid=linkedid or uid,
            endpoint=endpoint,
            created=self.clock.now(),
            caller_name=caller[0],
            caller_num=caller[1],
            connected_name=connected[0],
            connected_num=connected[1],
            context=context,
            exten=exten,
            state=state,
            protocol_id=str(uuid.UUID(int=self.rng.getrandbits(128))),
            dtmf_mode=dtmf_mode,
        )
        ch.app_name, ch.app_data = app
        self.channels[uid] = ch
        self._linked[ch.linkedid] = self._linked.get(ch.linkedid, 0) + 1
        self.ami_chan("Newchannel", ch)
        self.ari_chan("ChannelCreated", ch)
        self.cel.emit("CHAN_START", ch, app=False)
        if not endpoint.startswith("Local/"):
            self.endpoint(endpoint).channels.add(uid)
        return ch

    def set_state(self, ch: Channel, state: ChanState) -> None:
        if ch.hung_up or not ch.set_state(state):
            return
        if state == ChanState.UP:
            ch.answered_at = self.clock.now()
            self.cel.emit("ANSWER", ch)
        self.ami_chan("Newstate", ch)
        self.ari_chan("ChannelStateChange", ch)
        if state == ChanState.UP:
            ch.answered.set()
        if state in (ChanState.RINGING, ChanState.UP, ChanState.RING) and ch.tech != "Local":
            self.device_state(self.endpoint(ch.endpoint))

    def set_var(self, ch: Channel, name: str, value: str) -> None:
        # pbx_builtin_setvar_helper: an existing variable of the same name (inheritance prefix aside) is
        # replaced; the new one keeps the name as given (``_X`` stays inheritable) and so does the VarSet
        key = var_key(name)
        for stored in [v for v in ch.variables if var_key(v) == key]:
            del ch.variables[stored]
        ch.variables[name] = value
        self.ami_chan("VarSet", ch, [("Variable", name), ("Value", value)], privilege="dialplan,all")
        self.ari_chan("ChannelVarset", ch, pre=[("variable", name), ("value", value)])

    def newexten(self, ch: Channel, app: str, data: str) -> None:
        ch.app_name, ch.app_data = app, data
        self.ami_chan(
            "Newexten",
            ch,
            [("Extension", ch.exten), ("Application", app), ("AppData", data)],
            privilege="dialplan,all",
        )
        self.ari_chan("ChannelDialplan", ch, [("dialplan_app", app), ("dialplan_app_data", data)])

    def set_connected(self, ch: Channel, name: str, num: str) -> None:
        if (ch.connected_name, ch.connected_num) == (name, num):
            return
        ch.connected_name, ch.connected_num = name, num
        self.ami_chan("NewConnectedLine", ch)
        self.ari_chan("ChannelConnectedLine", ch)

    def dtmf(self, ch: Channel, digit: str, duration_ms: int = 250, mode: str | None = None) -> None:
        """``ch`` reads ``digit``; passed on through its bridge and Local pair (``ctiserver.sim.dtmf``)."""
        dtmf.received(self, ch, digit, duration_ms, mode or ch.dtmf_mode)

    def on_hangup(self, ch: Channel, hook: HangupHook) -> Callable[[], None]:
        hooks = self._hooks.setdefault(ch.id, [])
        hooks.append(hook)

        def remove() -> None:
            if hook in hooks:
                hooks.remove(hook)

        return remove

    def run_hooks(self, ch: Channel) -> None:
        for hook in list(self._hooks.pop(ch.id, ())):
            hook(ch)

    def drop_hooks(self, ch: Channel) -> None:
        self._hooks.pop(ch.id, None)

    def hangup(
        self,
        ch: Channel,
        cause: int | None = None,
        *,
        soft: bool = False,
        request: bool = True,
        dissolve: bool = False,
        soft_cause: int = 32,
    ) -> None:
        """Hang ``ch`` up.

        * default — the far end sent BYE: ``HangupRequest`` (with ``Cause`` when bridged by ``Dial``);
        * ``soft`` — we asked (ARI DELETE, AMI Hangup): ``SoftHangupRequest`` cause 32;
        * ``dissolve`` — the bridge peer left: no request event;
        * ``request=False`` — quiet (dialplan ended, dial cancelled, ring timeout).
        A channel running dialplan then reports ``SoftHangupRequest`` cause 16 as its application returns.
        Of these only the far end's BYE names a hang-up source (``ctiserver.sim.hangup_source``; a failure answer
        does too: ``trunk.refuse``), while ``ch`` is still bridged to its peer."""
        if ch.hung_up or ch.hangup_requested:
            return
        ch.hangup_requested = True
        if request and not soft and not dissolve:
            hangup_source.far_end(ch)
        if cause is None:
            cause = 16 if (soft or ch.bridge is not None) else 0
        ch.hangup_cause = cause
        if ch.state == ChanState.UP:
            for name, value in QOS_VARS:
                self.set_var(ch, name, value)
        if not request or dissolve:
            pass
        elif soft:
            self.ami_chan("SoftHangupRequest", ch, [("Cause", str(soft_cause))])
            self.ari_chan("ChannelHangupRequest", ch, pre=[("cause", soft_cause), ("soft", True)])
        elif ch.state == ChanState.UP or ch.stasis_app:
            extra = [("Cause", str(cause))] if ch.tags.get("dial_bridge") and ch.bridge is not None else []
            self.ami_chan("HangupRequest", ch, extra)
            self.ari_chan("ChannelHangupRequest", ch)
        for hook in list(self._hooks.pop(ch.id, ())):
            hook(ch)
        self.media_stop(ch)
        if ch.bridge is not None:
            self.bridge_leave(ch)
        if ch.stasis_app is not None:
            self.stasis_exit(ch, hangup=True)
        task = ch.tags.get("task")
        if (
            request
            and task is not None
            and not ch.tags.get("originated")
            and task is not asyncio.current_task()
        ):
            self.ami_chan("SoftHangupRequest", ch, [("Cause", "16")])
            self.ari_chan("ChannelHangupRequest", ch, pre=[("cause", 16), ("soft", True)])
        self._finalize(ch)

    def _finalize(self, ch: Channel) -> None:
        ch.hung_up = True
        cause = ch.hangup_cause
        self.cel.cdr(ch)
        left = self._linked.get(ch.linkedid, 1) - 1
        if left <= 0:
            self._linked.pop(ch.linkedid, None)
        else:
            self._linked[ch.linkedid] = left
        cel_end = self.cel.end_records(ch, last=left <= 0)
        if not self.cel_after_hangup:
            for record in cel_end:
                self.cel.send(record)
        text = CAUSE_TEXT.get(cause, "Unknown")
        ami_tail = [("Cause", str(cause)), ("Cause-txt", text)]
        ari_body: list[tuple[str, Any]] = [("cause", cause), ("cause_txt", text)]
        if ch.tech_cause is not None:
            ami_tail.append(("TechCause", str(ch.tech_cause)))
            ari_body.append(("tech_cause", ch.tech_cause))
        self.ami_chan("Hangup", ch, ami_tail)
        if self.cel_after_hangup:
            self._send_late(cel_end)
        self.ari_chan("ChannelDestroyed", ch, ari_body)
        ch.subscribed.clear()
        self.channels.pop(ch.id, None)
        if ch.tech != "Local":
            ep = self.endpoint(ch.endpoint)
            ep.channels.discard(ch.id)
            self.device_state(ep)
        task = ch.tags.pop("task", None)
        ch.done.set()
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _send_late(self, records: list[list[tuple[str, str]]]) -> None:
        """Send ``records`` once the running hang-up sequence is over (next turn of the event loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous unit test): at once
            for record in records:
                self.cel.send(record)
            return
        if not self._late_cel:
            loop.call_soon(self._flush_late_cel)
        self._late_cel.extend(records)

    def _flush_late_cel(self) -> None:
        records, self._late_cel = self._late_cel, []
        for record in records:
            self.cel.send(record)

    def shutdown(self) -> None:
        """``core restart now``: every channel gets a shutdown soft hangup (cause 4), then goes away."""
        chans = sorted(self.channels.values(), key=lambda c: c.created, reverse=True)
        for ch in chans:
            self.ami_chan("SoftHangupRequest", ch, [("Cause", "4")])
            self.ari_chan("ChannelHangupRequest", ch, pre=[("cause", 4), ("soft", True)])
        for ch in chans:
            self.hangup(ch, 16, dissolve=True)

    # -- stasis ------------------------------------------------------------------------------------
    def stasis_enter(self, ch: Channel, app: str, args: tuple[str, ...]) -> None:
        ch.stasis_app, ch.stasis_args = app, args
        ch.stasis_left.clear()
        ch.subscribed.add(app)
        self.ari_chan("StasisStart", ch, [("args", list(args))])

    def stasis_exit(self, ch: Channel, *, hangup: bool = False) -> None:
        app = ch.stasis_app
        if app is None:
            return
        self.ari_chan("StasisEnd", ch)
        self.set_var(ch, "STASISSTATUS", "SUCCESS")  # app_stasis sets it once stasis_app_exec returned (trace 02)
        ch.stasis_app = None
        if not ch.tags.get("originated"):
            ch.subscribed.discard(app)
        ch.stasis_left.set()

    # -- hooks implemented by the media/bridge modules ---------------------------------------------
    def media_stop(self, ch: Channel) -> None:
        from ctiserver.sim.media import stop_channel_media

        stop_channel_media(self, ch)

    def bridge_leave(self, ch: Channel) -> None:
        from ctiserver.sim.bridging import leave

        leave(self, ch)
