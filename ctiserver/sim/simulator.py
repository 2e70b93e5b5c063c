"""``Simulator``: the simulated Asterisk as an async context manager — AMI + ARI servers on 127.0.0.1, the PBX
engine, and the scripting API (callers, agents, restart/faults).

    async with Simulator(SimConfig()) as sim:
        call = sim.place_call(from_number="5550100", from_name="Test Caller", to="100",
                              dtmf=[(2.0, "1")], hangup_after=10.0)
        sim.agent("1001", answer_after=1.0)
        await call.done.wait()
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web

from ctiserver.clock import Clock, SystemClock
from ctiserver.sim import dial
from ctiserver.sim.ami_server import AmiServer
from ctiserver.sim.ari_server import AriWs, build_app
from ctiserver.sim.config import FarEndConfig, SimConfig
from ctiserver.sim.engine import Engine
from ctiserver.sim.hub import Hub
from ctiserver.sim.model import Channel, ChanState, Endpoint

CALLS_KEPT = 1_000  # handles of the latest callers placed (a demo places calls for days)


@dataclass(eq=False)
class CallHandle:
    """A scripted caller. ``channel`` is set once the call is placed; ``done`` is set when it has hung up."""

    sim: Simulator
    to: str
    channel: Channel | None = None
    placed: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def channel_id(self) -> str:
        return self.channel.id if self.channel else ""

    @property
    def name(self) -> str:
        return self.channel.name if self.channel else ""

    def press(self, digit: str, duration_ms: int = 250) -> None:
        if self.channel is not None:
            self.sim.engine.dtmf(self.channel, digit, duration_ms)

    def hangup(self) -> None:
        if self.channel is not None:
            self.sim.engine.hangup(self.channel)


@dataclass(eq=False)
class AgentHandle:
    sim: Simulator
    endpoint: Endpoint

    def ringing(self) -> list[Channel]:
        return [
            c
            for c in self.sim.engine.channels.values()
            if c.endpoint == self.endpoint.name and c.state == ChanState.RINGING
        ]

    def answer(self) -> bool:
        """Answer the ringing call (manual answer)."""
        for ch in self.ringing():
            dial.answer(self.sim.engine, ch)
            return True
        return False

    def hangup(self) -> None:
        for cid in list(self.endpoint.channels):
            ch = self.sim.engine.channels.get(cid)
            if ch is not None:
                self.sim.engine.hangup(ch)

    def register(self, registered: bool = True) -> None:
        self.sim.set_registered(self.endpoint, registered)


class Simulator:
    def __init__(self, config: SimConfig | None = None, clock: Clock | None = None, seed: int = 1) -> None:
        self.config = config or SimConfig()
        self.clock = clock or SystemClock()
        self.seed = seed
        self.hub = Hub(self.clock, self.config.systemname, self.config.asterisk_id)
        self.engine = Engine(self.config, self.clock, self.hub, seed)
        self.ami = AmiServer(self)
        self.ari_ws: set[AriWs] = set()
        self.custom_states: dict[str, str] = {}
        self.slow_responses = 0.0
        self.originate_failures = 0  # fault: the next N Originates cannot start (manager.c: "Originate failed")
        # a failed Originate's OriginateResponse before the Hangups that say why (True), as Asterisk delivers it
        # (sent to the sessions by the originate thread; channel events go through stasis' router), or after
        # them, in the order they are published (False)
        self.originate_response_first = True
        self.booting = False
        self._runner: web.AppRunner | None = None
        self.ami_port = 0
        self.ari_port = 0
        self.calls: deque[CallHandle] = deque(maxlen=CALLS_KEPT)  # the latest callers (tests look at them)

    @property
    def cel_after_hangup(self) -> bool:
        """A channel's CEL ``HANGUP``/``CHAN_END`` (and ``LINKEDID_END``) after its AMI ``Hangup`` — and after
        the Hangups its hang-up sets off (bridge peer, Local half), so the call's last — as CEL's own stasis
        subscriber may deliver them (trace 13: a third of the legs); False (default): before it."""
        return self.engine.cel_after_hangup

    @cel_after_hangup.setter
    def cel_after_hangup(self, value: bool) -> None:
        self.engine.cel_after_hangup = value

    @property
    def ari_url(self) -> str:
        scheme = "https" if self.config.tls_cert else "http"
        return f"{scheme}://{self.config.host}:{self.ari_port}/ari"

    async def __aenter__(self) -> Simulator:
        await self._listen(self.config.ami_port, self.config.ari_port)
        self.run_script()
        return self

    def run_script(self) -> list[CallHandle]:
        """Apply the configuration's ``script:`` (agents now, callers at their ``at`` times)."""
        script = self.config.script
        for a in script.agents:
            self.agent(
                a.name, answer_after=a.answer_after, registered=a.registered, hangup_after=a.hangup_after
            )
        return [
            self.place_call(
                c.from_number,
                c.from_name,
                c.to,
                dtmf=list(c.dtmf),
                hangup_after=c.hangup_after,
                at=c.at,
                endpoint=c.endpoint,
                dtmf_mode=c.dtmf_mode,
            )
            for c in script.calls
        ]

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._shutdown()
        await self.engine.close()

    async def _listen(self, ami_port: int, ari_port: int) -> None:
        tls = self._tls()
        await self.ami.start(self.config.host, ami_port, tls)
        self.ami_port = self.ami.port
        self._runner = web.AppRunner(
            build_app(self), handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, ari_port, ssl_context=tls)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.ari_port = sockets[0].getsockname()[1] if sockets else ari_port

    def _tls(self) -> ssl.SSLContext | None:
        """The servers' TLS context, as Asterisk's ``tlscertfile`` / ``tlsprivatekey`` make it."""
        if not self.config.tls_cert:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        return context

    async def _shutdown(self) -> None:
        for ws in list(self.ari_ws):
            ws.abort()
        await self.ami.stop()
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner.cleanup(), 3)
            self._runner = None

    # -- scripting ---------------------------------------------------------------------------------
    def place_call(
        self,
        from_number: str = "5550100",
        from_name: str = "",
        to: str = "100",
        *,
        dtmf: list[tuple[float, str]] | None = None,
        hangup_after: float | None = None,
        at: float = 0.0,
        endpoint: str = "caller",
        context: str = "from-external",
        dtmf_mode: str = "info",
    ) -> CallHandle:
        """A caller dials ``to``. ``dtmf`` times, ``hangup_after`` and ``at`` are seconds from placing
        the call;
        the caller hangs up after ``hangup_after`` or when the PBX hangs up."""
        handle = CallHandle(self, to)
        self.calls.append(handle)
        handle.task = self.engine.spawn(
            self._caller(
                handle, from_number, from_name, to, dtmf or [], hangup_after, at, endpoint, context, dtmf_mode
            ),
            name=f"sim:caller:{to}",
        )
        return handle

    async def _caller(
        self,
        h: CallHandle,
        num: str,
        name: str,
        to: str,
        dtmf: list[tuple[float, str]],
        hangup_after: float | None,
        at: float,
        endpoint: str,
        context: str,
        mode: str,
    ) -> None:
        engine = self.engine
        try:
            if at > 0:
                await self.clock.sleep(at)
            ch = engine.new_channel(
                f"PJSIP/{endpoint}",
                context=context,
                exten=to,
                state=ChanState.RING,
                caller=(name, num),
                dtmf_mode=mode,
            )
            ch.tags["dnid"] = to
            ch.tags["connected"] = asyncio.Event()
            h.channel = ch
            h.placed.set()
            engine.set_var(ch, "SIPDOMAIN", "127.0.0.1")
            engine.device_state(engine.endpoint(ch.endpoint))
            engine.dialplan.start(ch)
            start = self.clock.monotonic()
            for t, digit in sorted(dtmf):
                await self.clock.sleep(max(0.0, t - (self.clock.monotonic() - start)))
                if ch.hung_up:
                    break
                engine.dtmf(ch, digit, 250, mode)
            if hangup_after is not None:
                await self._wait_done(ch, hangup_after - (self.clock.monotonic() - start))
                if not ch.hung_up and not ch.hangup_requested:
                    engine.hangup(ch)
            await ch.done.wait()
        finally:
            h.placed.set()
            h.done.set()

    async def _wait_done(self, ch: Channel, seconds: float) -> None:
        waiter = asyncio.ensure_future(ch.done.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, seconds)))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    def agent(
        self,
        name: str,
        answer_after: float | None = 1.0,
        registered: bool = True,
        hangup_after: float | None = None,
    ) -> AgentHandle:
        """Configure the phone of endpoint ``name``: registered or not, answering after
        ``answer_after`` seconds
        (None: only by ``handle.answer()``), hanging up after ``hangup_after`` seconds of talk."""
        ep = self.engine.endpoint(f"PJSIP/{name}")
        if not ep.callerid_num:
            ep.callerid_name, ep.callerid_num = f"Agent {name}", name
        ep.answer_after, ep.hangup_after = answer_after, hangup_after
        self.set_registered(ep, registered)
        return AgentHandle(self, ep)

    def customer(
        self,
        number: str,
        answer_after: float | None = 3.0,
        hangup_after: float | None = None,
        reject: int | None = None,
        dtmf: tuple[tuple[float, str], ...] = (),
    ) -> None:
        """A party at the carrier, reached by ``Dial(PJSIP/<number>@trunk)``: answers after ``answer_after``
        seconds of ringing (None: rings until given up), hangs up after ``hangup_after`` seconds of talk, or
        refuses the call with the SIP status ``reject`` (486 busy, 404 not found, 480, 503 …); presses the keys
        ``dtmf`` (seconds after its answer, digit)."""
        self.engine.trunks.parties[number] = FarEndConfig(
            answer_after=answer_after, hangup_after=hangup_after, reject=reject, dtmf=dtmf
        )

    def set_registered(self, ep: Endpoint, registered: bool) -> None:
        if ep.registered == registered:
            return
        ep.registered = registered
        status = "Reachable" if registered else "Unreachable"
        self.hub.ami(
            "PeerStatus", "system,all", [("ChannelType", ep.tech), ("Peer", ep.name), ("PeerStatus", status)]
        )
        self.engine.device_state(ep)
        self.hub.ami(
            "ContactStatus",
            "system,all",
            [
                ("URI", f"sip:{ep.resource}@127.0.0.1:5070"),
                ("ContactStatus", "NonQualified" if registered else "Removed"),
                ("AOR", ep.resource),
                ("EndpointName", ep.resource),
                ("RoundtripUsec", "0"),
            ],
        )
        self.hub.ari(
            "EndpointStateChange",
            set(),
            [
                (
                    "endpoint",
                    {
                        "technology": ep.tech,
                        "resource": ep.resource,
                        "state": ep.ari_state(),
                        "channel_ids": sorted(ep.channels),
                    },
                )
            ],
        )

    def redirect(
        self, ch: Channel, context: str, exten: str, priority: int = 1, keep_hooks: bool = True
    ) -> None:
        """Send ``ch`` to ``context,exten,priority`` (AMI Redirect, BlindTransfer) as ``ast_async_goto`` does:
        ``ast_explicit_goto`` moves the channel without publishing a snapshot, so the new location shows only
        when one is published — by the bridge a bridged channel leaves (a ``Newexten`` with the old application
        before ``BridgeLeave``, trace 07), else by the next application the PBX runs. A bridged channel
        interrupted inside a dialplan application (``Queue``/``Dial``) resumes at the next priority when that
        application returns (trace 07: BlindTransfer to ``1002,1`` runs ``1002,2``). One that is not bridged
        (``Wait``, ``Playback``, ``AMD`` …) runs ``priority`` itself: ``ast_async_goto`` adds one for a channel
        in the PBX loop (AST_FLAG_IN_AUTOLOOP), ``ast_explicit_goto`` takes it off again, the application
        returns -1 on the soft hang-up and ``__ast_pbx_run`` clears AST_SOFTHANGUP_ASYNCGOTO and spawns the
        location set, without stepping. One in ``Stasis()`` of its dialplan leaves it (StasisEnd, then
        STASISSTATUS=SUCCESS) and runs the new location from ``priority`` itself too: app_stasis returns 0 with
        the async goto still pending, so the PBX loop does not step past it."""
        engine = self.engine
        task = ch.tags.pop("task", None)
        in_app = task is not None and ch.stasis_app is None
        in_stasis = ch.stasis_app is not None and bool(ch.tags.get("dialplan_stasis"))
        if not keep_hooks:
            engine.drop_hooks(ch)
        ch.context, ch.exten, ch.priority = context, exten, priority
        bridged = ch.bridge is not None
        if ch.bridge is not None:
            if in_app or in_stasis:  # the snapshot leaving the bridge publishes (ast_channel_internal_bridge_set)
                engine.newexten(ch, ch.app_name, ch.app_data)
            engine.bridge_leave(ch)
        if ch.stasis_app is not None:
            engine.stasis_exit(ch)
        if in_app and bridged:
            ch.priority += 1
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        engine.dialplan.start(ch)

    # -- faults ------------------------------------------------------------------------------------
    def drop_connections(self) -> None:
        """Drop every AMI and ARI connection (the server keeps listening)."""
        self.ami.drop_all()
        for ws in list(self.ari_ws):
            ws.abort()

    def ami_outage(self, seconds: float) -> None:
        """The AMI link alone is cut for ``seconds`` (ARI stays up; channels go on, their AMI events are lost)."""
        self.ami.outage(seconds)

    async def restart(self, down_for: float = 1.5, boot_time: float = 0.3) -> None:
        """``core restart now`` as trace 12 shows: every channel hung up (soft hangup cause 4), AMI
        ``Shutdown`` (Cleanly, Restart True); ~1.1 s later the AMI sockets close and the ARI websockets drop
        without a close frame; new connections are accepted ``down_for`` s after the command; ``boot_time``
        later the PBX reports PeerStatus for the registered endpoints and ``FullyBooted`` (Uptime 0). Dynamic
        queue members and channels are gone; endpoints stay as they were (phones re-register)."""
        self.engine.shutdown()
        self.hub.ami("Shutdown", "system,all", [("Shutdown", "Cleanly"), ("Restart", "True")])
        await self.clock.sleep(min(1.1, down_for))
        ami_port, ari_port = self.ami_port, self.ari_port
        await self._shutdown()
        self.hub.ami_sinks.clear()
        self.hub.ari_sinks.clear()
        await self.engine.close()
        old = self.engine
        self.engine = Engine(self.config, self.clock, self.hub, self.seed + 1)
        self.engine._seq = old._seq
        self.engine.cel_after_hangup = old.cel_after_hangup
        for name, ep in old.endpoints.items():
            ep.channels.clear()
            self.engine.endpoints[name] = ep
        self.engine.queues.log = old.queues.log
        self.engine.queues.log_fact("NONE", "NONE", "NONE", "QUEUESTART", "")
        self.booting = True
        await self.clock.sleep(max(0.0, down_for - 1.1))
        await self._listen(ami_port, ari_port)
        await self.clock.sleep(boot_time)
        for ep in self.engine.endpoints.values():
            if ep.registered:
                self.hub.ami(
                    "PeerStatus",
                    "system,all",
                    [("ChannelType", ep.tech), ("Peer", ep.name), ("PeerStatus", "Reachable")],
                )
        self.engine.booted_at = self.clock.now()
        self.hub.ami(
            "FullyBooted",
            "system,all",
            [("Status", "Fully Booted"), ("Uptime", "0"), ("LastReload", "0")],
        )
        self.booting = False
