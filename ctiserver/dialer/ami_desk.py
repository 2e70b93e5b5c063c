"""A ``Desk`` for deployments without the ACD: a fixed team of agent phones.

The answered call waits in ``Stasis(ctiserver,dialer,…)``, held by the daemon's ``dialer`` handler (the component).
A live answer is connected by AMI ``Redirect`` of the customer's channel to ``<agent_context>,<extension>,1``
(it leaves Stasis; the dialplan rings the agent's phone); the screen-pop is published on the bus as
``agent.ringing`` with the contact's data when the phone rings (the customer's channel's ``DialState`` with
``DialStatus: RINGING``, app_dial's report of the phone's 180), and as ``agent.answered`` when the phone answers
(the screen-pop's two phases, as the ACD publishes them; a phone that answers without ringing first, auto-answer,
gets both at its answer; one that never rang — busy, unreachable — pops nothing); the conversation ends with the
customer's ``Hangup`` event, and the agent wraps up for ``wrapup`` seconds. When the agent's phone answered is the
customer's channel's ``DialEnd`` with ``DialStatus: ANSWER`` (the dialplan's ``Dial`` runs on it). The agent never had
the call — ``converse`` returns None, and the runner counts the live answer as abandoned and redirects the customer, if
still there, to the message — when the PBX refuses the ``Redirect`` (the customer hung up while an agent was being
found; the agent is ready again at once), when every ``Dial`` begun on the customer's channel ended without ``ANSWER``
(the phone rang out, was busy or unreachable: the seat rests before it is offered again, see below; ``CANCEL``, the
customer hanging up while it rang, frees it at once), or when the customer's channel hangs up before any phone answered
(also when the agent context never reached a phone: an unregistered endpoint fails in ``ast_request`` and app_dial
publishes no ``DialBegin``). Each conversation is the campaign queue's outbound stay for the call tracker and
the KPIs (``desk_stay.py``), its wrap-up pause the call's wrap-up (``wrapped``).

After an AMI outage (the events of that time reached nobody) the desk asks ``CoreShowChannels`` about the calls it
is connecting: a customer's channel gone has ended (its ``Hangup`` was lost: without this the seat and the attempt
were held for good), one in a bridge is with its agent (the phone answered during the outage: the screen-pop's
``agent.answered`` goes out then). A ``Redirect`` the link loss cut off is asked about the same way (``_redirect``):
still in ``Stasis``, it did not run and is sent again.

A phone the PBX cannot reach is offered nothing: ``devices.DeviceWatch`` follows the seats' devices
(``device``, ``PJSIP/{agent}`` by default) through ``DeviceStateChange`` and ``DeviceStateList``; a seat whose
device is ``UNAVAILABLE`` is neither reserved nor shown to the pacer until the PBX says it is back. A phone
that failed anyway (rang out, busy, unreachable) rests its seat ``wrapup`` s, doubling with each failure in a
row up to ``MAX_REST`` — not "out until further notice": the PBX sends no event for a device whose state does
not change, so a seat taken out on a guess might never come back. With the ACD running,
``ctiserver.dialer.desk.AcdDesk`` is used instead.

Recording: when the campaign's ``recording`` (or, for ``queue``, the recording policy of the campaign's queue)
says ``always``, the recording service starts a ``MixMonitor`` recording on the customer's channel before the
``Redirect`` (the audiohook stays on the channel through the redirect and ends with it; target
``mixmonitor:<channel name>``), ``<directory>/<attempt>-1.<format>``, with the same metadata, events
(``recording.started`` … ``recording.ready``), pause/resume (by call id through the API) and retention as the ACD
desk's bridge recordings; it ends with the customer's channel (the service reads the file's facts then). A
recording can also be started on demand (``start_recording``: ``POST /api/calls/{attempt}/recording``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from ctiserver.clock import Clock
from ctiserver.dialer.desk_stay import DeskStay
from ctiserver.dialer.devices import DeviceWatch
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.pacing import AgentPhase, AgentView
from ctiserver.dialer.ports import Conversation
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import in_stasis, live_channels
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiActionError, AmiError
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.recording.config import Policy

log = get_logger(__name__)


@dataclass
class _Seat:
    id: str
    phase: AgentPhase = AgentPhase.READY
    since: float = 0.0
    until: float = 0.0
    device: str = ""
    failures: int = 0  # the phone's failures in a row


FAILED = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})  # the phone's fault, not the customer's
MAX_REST = 300.0  # s: the longest rest of a seat whose phone keeps failing
RECONCILE_TIMEOUT = 10.0  # s: for CoreShowChannels after a reconnect


@dataclass
class _Call:
    """A customer's channel on its way to an agent's phone, as its ``Dial`` events tell it."""

    ended: asyncio.Event = field(default_factory=asyncio.Event)  # hung up, or every Dial ended unanswered
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # a phone answered, or ``ended``
    news: asyncio.Event = field(default_factory=asyncio.Event)  # a phone rings, or ``moved``
    rang: bool = False  # a phone rang (DialState RINGING)
    ringing: int = 0  # Dials begun and not yet ended
    began: bool = False
    connected: float | None = None  # when the agent's phone answered
    status: str = ""  # the last DialEnd's DialStatus

    def answer(self, at: float) -> None:
        self.connected = at
        self.moved.set()
        self.news.set()

    def end(self) -> None:
        self.ended.set()
        self.moved.set()
        self.news.set()


class Recorder(Protocol):
    """The recording service (``ctiserver.recording.service.RecordingService``), as far as the desk uses it."""

    def policy(self, queue: str | None, override: str | None = None) -> Policy: ...

    async def start(
        self, call_id: str, target: str, *, queue: str | None, agent: str | None, by: str, policy: str | None
    ) -> Any: ...


@dataclass
class _Talk:
    campaign: CampaignSettings
    agent: str
    channel: str  # the customer's channel id


@dataclass
class AmiDesk:
    ami: AmiClient
    clock: Clock
    bus: Bus
    agents: list[str]
    agent_context: str = "from-agents"
    wrapup: float = 15.0
    names: dict[str, str] = field(default_factory=dict)  # channel id → name (AmiLines keeps them too)
    recorder: Recorder | None = None  # None: nothing is recorded here
    device: str = "PJSIP/{agent}"  # the phone the agent context rings for an agent
    # the wrap-up after a call, told to the call tracker (``CallService.add_wrapup``: call id, seconds, agent)
    wrapped: Callable[[str, float, str], object] | None = None
    _seats: dict[str, _Seat] = field(default_factory=dict)
    _calls: dict[str, _Call] = field(default_factory=dict)  # customer channel id → its way to the agent
    _talks: dict[str, _Talk] = field(default_factory=dict)  # conversations by call (attempt) id
    _free: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._seats = {a: _Seat(a, since=self.clock.now(), device=self.device.format(agent=a)) for a in self.agents}
        self.devices = DeviceWatch(
            self.ami, frozenset(s.device for s in self._seats.values()), on_up=lambda _: self._free.set()
        )
        self.ami.on_event("Hangup", self._on_hangup)
        self.ami.on_event("DialBegin", self._on_dial_begin)
        self.ami.on_event("DialState", self._on_dial_state)
        self.ami.on_event("DialEnd", self._on_dial_end)
        self.ami.on_reconnect(self._on_reconnect)

    def agent_views(self, campaign: CampaignSettings) -> list[AgentView]:
        return [AgentView(s.phase, s.since, s.until) for s in self._seats.values() if self._offered(s)]

    def _offered(self, seat: _Seat) -> bool:
        """Busy seats always count; a ready one only if its phone can be reached."""
        return seat.phase is not AgentPhase.READY or self.devices.up(seat.device)

    async def reserve(
        self, campaign: CampaignSettings, wait: float, agent: str | None = None, *, call_id: str
    ) -> str | None:
        deadline = self.clock.monotonic() + wait
        while True:
            ready = [
                s
                for s in self._seats.values()
                if s.phase is AgentPhase.READY and agent in (None, s.id) and self.devices.up(s.device)
            ]
            if ready:
                seat = min(ready, key=lambda s: s.since)  # longest idle first
                seat.phase, seat.since = AgentPhase.RESERVED, self.clock.now()
                return seat.id
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return None
            self._free.clear()
            sleeper = asyncio.ensure_future(self.clock.sleep(min(left, 0.1)))
            freed = asyncio.ensure_future(self._free.wait())
            await asyncio.wait({sleeper, freed}, return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            freed.cancel()

    async def release(self, agent: str) -> None:
        seat = self._seats[agent]
        if seat.phase is AgentPhase.RESERVED:
            seat.phase, seat.since = AgentPhase.READY, self.clock.now()
            self._free.set()

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> Conversation | None:
        seat = self._seats[agent]
        call = self._calls[channel] = _Call()
        started = self.clock.now()
        seat.phase, seat.since = AgentPhase.TALKING, started
        taken, rest = True, True
        self._talks[call_id] = _Talk(campaign, agent, channel)
        stay = DeskStay(self.bus, campaign.queue or campaign.name, call_id, started)
        try:
            await stay.enter(channel, campaign.name)
            if self._policy(campaign) is Policy.ALWAYS:
                await self._record(call_id)
            await self._redirect(call, call_id, channel, agent)
            await call.news.wait()
            if call.rang or call.connected is not None:  # the screen-pop's "ringing" phase
                await self._publish("agent.ringing", campaign, agent, contact, call_id, channel)
            await call.moved.wait()
            if call.connected is not None:  # the screen-pop's "answered" phase, as the ACD's
                await stay.leave(call.connected, agent)
                await self._publish("agent.answered", campaign, agent, contact, call_id, channel)
            await call.ended.wait()
            if call.connected is None:  # no phone answered: the customer waited in silence and got nobody
                taken = False
                rest = call.status in FAILED or not call.began
                log.warning(
                    "agent's phone did not take the live answer",
                    call_id=call_id,
                    agent=agent,
                    dial_status=call.status or "none",
                )
        except AmiActionError as exc:  # "Channel does not exist: <name>": the customer left before (its Hangup
            taken, rest = False, False  # went by already), or Stasis failed and the dialplan hung up
            log.info("live answer gone before it reached its agent", call_id=call_id, error=str(exc))
        finally:
            self._calls.pop(channel, None)
            self._talks.pop(call_id, None)  # its recordings end with the customer's channel
            talk = self.clock.now() - started
            await stay.leave(self.clock.now())  # no phone answered (nothing if one did)
            if taken or rest:  # after a call, or a phone that failed: wrap-up before the next one
                seat.failures = 0 if taken else seat.failures + 1
                pause = min(MAX_REST, self.wrapup * 2 ** max(0, seat.failures - 1))
                seat.phase, seat.since = AgentPhase.WRAP_UP, self.clock.now()
                seat.until = seat.since + pause
                self._spawn(self._wrap(seat, pause, call_id if taken else None))
            else:  # the agent never had it: ready again at once, no wrap-up
                seat.phase, seat.since = AgentPhase.READY, self.clock.now()
                self._free.set()
        return Conversation(talk, call.connected) if taken else None

    async def _redirect(self, call: _Call, call_id: str, channel: str, agent: str) -> None:
        """Send the customer to the agent's extension. A link lost under the ``Redirect`` leaves its fate unknown
        (before: the conversation ended there with no talk, and the seat was offered again while the agent might be
        talking). Once the link is back, ``CoreShowChannels`` tells: the channel still in ``Stasis`` — it did not
        run, it is sent again (the customer reaches the agent late, and counts so); gone — ended; in a bridge —
        with the agent; elsewhere — on its way, its ``Dial`` events come over the new link."""
        headers = [
            ("Channel", self.names.get(channel, channel)),
            ("Context", self.agent_context),
            ("Exten", agent),
            ("Priority", "1"),
        ]
        while True:
            try:
                await self.ami.action("Redirect", headers, check=True)
                return
            except AmiActionError:
                raise
            except AmiError as exc:
                log.warning(
                    "redirect to the agent cut off: asked again once the link is back", call_id=call_id, error=str(exc)
                )
            found = (await self._channels(retry=True) or {}).get(channel)
            if found is None:
                call.end()
                return
            if found.get("BridgeId"):
                if call.connected is None:
                    call.answer(self.clock.now())
                return
            if not in_stasis(found):
                return

    async def _channels(self, *, retry: bool = False) -> dict[str, AmiEvent] | None:
        """The PBX's channels by Uniqueid; None if the link failed (with ``retry``: asked again until it answers —
        after a ``Redirect`` of ours, so not a list the other components asked for before it; without: the
        reconciliation after a login, which shares theirs)."""
        while True:
            try:
                return await live_channels(self.ami, timeout=RECONCILE_TIMEOUT, share=not retry)
            except AmiError as exc:
                if not retry:
                    log.warning("desk reconciliation failed", error=str(exc))
                    return None
                await self.clock.sleep(1.0)  # the action waited for the link already: do not spin

    async def _publish(
        self, kind: str, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> None:
        """The screen-pop: ``agent.ringing`` once the PBX took the call to the agent's phone, ``agent.answered``
        when that phone answered."""
        await self.bus.publish(
            new_event(
                kind,
                call_id,
                {
                    "agent": agent,
                    "call_id": call_id,
                    "channel": channel,
                    "campaign": campaign.name,
                    "caller_number": contact.number,
                    "caller_name": contact.name,
                    "attached": contact.pop_data(),
                },
                self.clock.now(),
            )
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _policy(self, campaign: CampaignSettings) -> Policy | None:
        return None if self.recorder is None else self.recorder.policy(campaign.queue, campaign.recording_policy)

    async def _record(self, call_id: str) -> None:
        """Start the recording the call's policy asks for, before the agent has it."""
        try:
            await self.start_recording(call_id, "policy")
        except Exception as exc:  # whatever failed, the call goes on unrecorded rather than not at all
            log.warning("recording did not start", call_id=call_id, error=str(exc))

    async def start_recording(self, call_id: str, by: str) -> Any:
        """Record a conversation of this desk (on demand, or by policy): ``MixMonitor`` on the customer's channel,
        under the campaign's recording policy (``never`` refuses). None: not a conversation of this desk."""
        talk = self._talks.get(call_id)
        if talk is None or self.recorder is None:
            return None
        return await self.recorder.start(
            call_id,
            f"mixmonitor:{self.names.get(talk.channel, talk.channel)}",
            queue=talk.campaign.queue,
            agent=talk.agent,
            by=by,
            policy=talk.campaign.recording_policy,
        )

    async def _wrap(self, seat: _Seat, pause: float, call_id: str | None) -> None:
        await self.clock.sleep(pause)
        seat.phase, seat.since = AgentPhase.READY, self.clock.now()
        self._free.set()
        if call_id is not None and self.wrapped is not None:  # the call's wrap-up, for its agent's AHT
            try:
                self.wrapped(call_id, pause, seat.id)
            except KeyError:  # a call the tracker does not know (e.g. it restarted under it)
                log.info("wrap-up of a call the tracker does not know", call_id=call_id)

    def _on_dial_begin(self, event: AmiEvent) -> None:
        call = self._calls.get(event.get("Uniqueid") or "")
        if call is not None:
            call.ringing += 1
            call.began = True

    def _on_dial_state(self, event: AmiEvent) -> None:
        call = self._calls.get(event.get("Uniqueid") or "")
        if call is not None and event.get("DialStatus") == "RINGING":
            call.rang = True
            call.news.set()

    def _on_dial_end(self, event: AmiEvent) -> None:
        call = self._calls.get(event.get("Uniqueid") or "")
        if call is None:
            return
        call.ringing = max(0, call.ringing - 1)
        call.status = event.get("DialStatus") or ""
        if call.status == "ANSWER":
            call.answer(self.clock.now())
        elif call.ringing == 0 and call.connected is None:  # every phone the agent context rang gave up
            call.end()

    def _on_hangup(self, event: AmiEvent) -> None:
        call = self._calls.get(event.get("Uniqueid") or "")
        if call is not None:
            call.end()

    async def _on_reconnect(self) -> None:
        """The events of a link that was down reached nobody: a customer who hung up then, or whose agent's phone
        answered then, would hold its seat (and its attempt) for good. ``CoreShowChannels`` tells: a channel gone
        has ended; one in a bridge is with the agent (app_dial bridges the answered phone; when is not known:
        now). One still ringing goes on — its ``DialEnd`` comes over the new link."""
        if not self._calls:
            return
        alive = await self._channels()
        if alive is None:  # down again: the next login reconciles
            return
        for channel, call in list(self._calls.items()):
            found = alive.get(channel)
            if found is None:
                call.end()
            elif call.connected is None and found.get("BridgeId"):
                call.answer(self.clock.now())

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
