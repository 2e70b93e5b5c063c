"""Offering one call to one agent: ring the agent's device with the caller's number and name, pop the screen
when it rings, bridge on answer, record per the queue's policy, and hand the agent to wrap-up afterwards.

Failure paths: no answer within the ring timeout → RONA (agent not_ready "missed", call back to its place);
device busy/unreachable → agent not_ready "unreachable", call back to its place; caller hangs up while the
agent rings → the agent leg is dropped and the agent is ready again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.agents import Agent, AgentRegistry
from ctiserver.acd.config import QueueConfig
from ctiserver.acd.dialing import dial_agent
from ctiserver.acd.entries import Entry
from ctiserver.acd.survey import PostCallSurvey
from ctiserver.clock import Clock
from ctiserver.control import BridgeKind, CallControl, ChannelGone, ControlError, DialFailed, DialRequest
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


class Recorder(Protocol):
    """The recording service as the ACD sees it (``ctiserver.recording.RecordingService``)."""

    async def bridged(
        self, call_id: str, bridge_id: str, queue: str, agent_id: str, policy: str | None = None
    ) -> str | None: ...

    async def finished(self, name: str) -> None: ...


class ConsultEnd(StrEnum):
    """How a consultation (attended transfer) ended without a request: who hung up."""

    CALLER_LEFT = "caller_hung_up"  # the held caller: the consultation ends with the call
    AGENT_LEFT = "agent_hung_up"  # the transferring agent: the caller goes to the consulted party
    TARGET_LEFT = "target_hung_up"  # the consulted party: the caller comes back to the agent


class OfferResult(StrEnum):
    TALKED = "talked"
    MISSED = "missed"  # RONA
    UNREACHABLE = "unreachable"
    CALLER_GONE = "caller_gone"
    CUSTOMER_FAILED = "customer_failed"  # a call-back whose customer did not answer
    REQUEUE = "requeue"  # blind-transferred back into the ACD (a queue or one agent)
    TRANSFERRED = "transferred"  # blind-transferred to a number outside the ACD
    RETRY = "retry"  # the agent's leg vanished as it was bridged: back to the queue, agent not blamed


@dataclass(slots=True)
class Talk:
    """A live conversation, so transfers can find its channels."""

    entry: Entry
    agent_id: str
    caller_channel: str
    agent_channel: str
    bridge_id: str
    ended: asyncio.Event
    result: OfferResult = OfferResult.TALKED
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # channels swapped (attended transfer)
    consult: tuple[str, str | None] | None = None  # (channel, agent id) being consulted
    consult_dial: asyncio.Task[None] | None = None  # the consulted party is being rung
    recordings: list[str] = field(default_factory=list)  # started on demand during the talk
    agent_left: bool = False  # the agent's leg hung up first (the caller may take the post-call survey)


class Connector:
    def __init__(
        self,
        control: CallControl,
        clock: Clock,
        bus: Bus,
        agents: AgentRegistry,
        recorder: Recorder | None,
        on_answered: Callable[[Entry, Agent], Awaitable[None]],
        survey: PostCallSurvey | None = None,
        on_consult_end: Callable[[Talk, ConsultEnd], Awaitable[None]] | None = None,
    ) -> None:
        self._control = control
        self._clock = clock
        self._bus = bus
        self._agents = agents
        self._recorder = recorder
        self._on_answered = on_answered
        self._survey = survey
        self._on_consult_end = on_consult_end
        self._surveys: set[asyncio.Task[None]] = set()
        self.talks: dict[str, Talk] = {}  # call id → live conversation

    async def _event(self, type_: str, subject: str, data: dict[str, Any]) -> None:
        await self._bus.publish(new_event(type_, subject, data, self._clock.now()))

    def _request(self, entry: Entry, agent: Agent, cfg: QueueConfig) -> DialRequest:
        headers = {}
        if agent.auto_answer and cfg.auto_answer_header:
            name, _, value = cfg.auto_answer_header.partition("=")
            headers[name] = value
        number = entry.callback_number or entry.request.caller_number
        return DialRequest(
            endpoint=agent.device,
            caller_id_number=number,
            caller_id_name=entry.request.caller_name,
            timeout=cfg.ring_timeout,
            variables={"CTI_CALL_ID": entry.call_id, "CTI_QUEUE": cfg.name, "CTI_AGENT": agent.id},
            originator=entry.channel_id,
            app_args=("agent", entry.call_id, agent.id),
            headers=headers,
        )

    def _pop_data(self, entry: Entry, agent: Agent, cfg: QueueConfig, channel: str | None) -> dict[str, Any]:
        return {
            "agent": agent.id,
            "call_id": entry.call_id,
            "queue": cfg.name,
            "channel": channel,
            "caller_number": entry.callback_number or entry.request.caller_number,
            "caller_name": entry.request.caller_name,
            "callback": entry.is_callback,
            "attached": dict(entry.attached),
        }

    async def offer(self, entry: Entry, agent: Agent, cfg: QueueConfig) -> OfferResult:
        """Ring ``agent`` (already RESERVED) for ``entry``; return when the offer (and any talk) is over."""
        await self._event("agent.offered", entry.call_id, self._pop_data(entry, agent, cfg, None))

        async def ringing(channel_id: str) -> None:
            if agent.state is AgentState.RESERVED:
                await self._agents.change(agent.id, AgentState.RINGING, call_id=entry.call_id)
            await self._event("agent.ringing", entry.call_id, self._pop_data(entry, agent, cfg, channel_id))

        dial = asyncio.create_task(dial_agent(self._control, self._request(entry, agent, cfg), ringing))
        caller_gone: asyncio.Task[None] | None = None
        if entry.channel_id is not None:
            caller_gone = asyncio.create_task(self._control.wait_hangup(entry.channel_id))
        try:
            waiters: set[asyncio.Task[Any]] = {dial} | ({caller_gone} if caller_gone else set())
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            if caller_gone is not None and caller_gone.done() and not dial.done():
                dial.cancel()
                # asyncio.wait, not ``await dial`` under suppress(BaseException): that would swallow a
                # cancellation of this task too (and the ACD's shutdown would wait for it for ever)
                await asyncio.wait({dial})
                if not dial.cancelled() and dial.exception() is None:
                    await self._hangup(dial.result())
                await self._free(agent)
                return OfferResult.CALLER_GONE
            try:
                agent_channel = dial.result()
            except DialFailed as exc:
                log.info("agent did not answer", agent=agent.id, reason=exc.reason, cause=exc.cause)
                return (
                    OfferResult.MISSED if exc.reason in ("noanswer", "timeout") else OfferResult.UNREACHABLE
                )
            except ChannelGone:
                return OfferResult.MISSED
            except ControlError as exc:
                log.warning("agent dial failed", agent=agent.id, error=str(exc))
                return OfferResult.UNREACHABLE
        finally:
            if caller_gone is not None:
                caller_gone.cancel()
        entry.legs.append(agent_channel)
        if agent.state is AgentState.RESERVED:  # answered without a ringing report
            await self._agents.change(agent.id, AgentState.RINGING, call_id=entry.call_id)
        if entry.is_callback:
            return await self._callback(entry, agent, cfg, agent_channel)
        assert entry.channel_id is not None
        return await self._talk(entry, agent, cfg, entry.channel_id, agent_channel)

    async def _callback(
        self, entry: Entry, agent: Agent, cfg: QueueConfig, agent_channel: str
    ) -> OfferResult:
        """The agent answered a call-back: now dial the customer from the agent's leg."""
        number = entry.callback_number or ""
        await self._event(
            "callback.dialing", entry.call_id, {"number": number, "agent": agent.id, "queue": cfg.name}
        )
        request = DialRequest(
            endpoint=cfg.callback.endpoint.format(number=number),
            caller_id_number=agent.id,
            caller_id_name=cfg.name,
            timeout=30.0,
            variables={"CTI_CALL_ID": entry.call_id, "CTI_QUEUE": cfg.name, "CTI_CALLBACK": "1"},
            originator=agent_channel,
            app_args=("callback", entry.call_id),
        )
        try:
            customer = await self._control.dial(request)
        except ControlError as exc:
            await self._event("callback.failed", entry.call_id, {"number": number, "error": str(exc)})
            await self._hangup(agent_channel)
            await self._agents.change(agent.id, AgentState.ON_CALL, call_id=entry.call_id)
            return OfferResult.CUSTOMER_FAILED
        await self._event("callback.answered", entry.call_id, {"number": number, "agent": agent.id})
        entry.legs.append(customer)
        return await self._talk(entry, agent, cfg, customer, agent_channel)

    async def _talk(
        self, entry: Entry, agent: Agent, cfg: QueueConfig, caller: str, agent_channel: str
    ) -> OfferResult:
        if entry.hold_task is not None:
            entry.hold_task.cancel()
            await asyncio.wait({entry.hold_task})  # its end, whatever it was; our own cancellation propagates
            entry.hold_task = None
        if not entry.is_callback:  # a waiting caller hears music (and maybe an announcement): stop them
            for stop in (self._control.stop_playback, self._control.stop_moh):
                with contextlib.suppress(ControlError):
                    await stop(caller)
        bridge = await self._control.create_bridge(BridgeKind.MIXING, name=f"cti-{entry.call_id}")
        try:
            await self._control.add_to_bridge(bridge, [caller, agent_channel])
        except ControlError:  # one of them hung up at the last moment (ARI: 400 "Channel not found")
            caller_gone = await self._gone(caller, within=1.0)
            await self._hangup(agent_channel)
            await self._destroy(bridge)
            await self._free(agent)
            if entry.is_callback:
                await self._hangup(caller)
                return OfferResult.CUSTOMER_FAILED
            # the caller left: abandoned; otherwise the agent's leg dropped as it answered: the call goes back
            # to its place and the agent, who did nothing wrong we can prove, stays ready
            return OfferResult.CALLER_GONE if caller_gone else OfferResult.RETRY
        talk = Talk(entry, agent.id, caller, agent_channel, bridge, asyncio.Event())
        self.talks[entry.call_id] = talk  # before the state says on_call: transfers/hold find it at once
        recording = None
        try:
            await self._agents.change(agent.id, AgentState.ON_CALL, call_id=entry.call_id)
            await self._on_answered(entry, agent)
            data = self._pop_data(entry, agent, cfg, agent_channel) | {"bridge": bridge}
            await self._event("agent.answered", entry.call_id, data)
            if self._recorder is not None:
                try:
                    recording = await self._recorder.bridged(
                        entry.call_id, bridge, cfg.name, agent.id, entry.request.recording
                    )
                except ControlError as exc:
                    log.warning("recording did not start", call_id=entry.call_id, error=str(exc))
            await self._until_over(talk)
        finally:
            self.talks.pop(entry.call_id, None)
            if self._recorder is not None:
                for name in ([recording] if recording else []) + talk.recordings:
                    with contextlib.suppress(ControlError):
                        await self._recorder.finished(name)
            if talk.consult is not None:
                await self._hangup(talk.consult[0])
            await self._hangup(talk.agent_channel)
            handed_on = talk.result is OfferResult.REQUEUE or (
                talk.result is OfferResult.TRANSFERRED and entry.transfer_number is not None
            )
            surveyed = not handed_on and self._to_survey(talk, cfg)
            if not handed_on and not surveyed:
                await self._hangup(talk.caller_channel)
            else:
                with contextlib.suppress(ControlError):
                    await self._control.remove_from_bridge(bridge, caller)
            await self._destroy(bridge)
            if surveyed:
                self._start_survey(talk, cfg)
        return talk.result

    def _to_survey(self, talk: Talk, cfg: QueueConfig) -> bool:
        return (
            self._survey is not None
            and cfg.survey is not None
            and talk.agent_left
            and talk.result is OfferResult.TALKED
        )

    def _start_survey(self, talk: Talk, cfg: QueueConfig) -> None:
        """Hand the caller to the post-call survey in the background: the agent goes on to wrap-up now."""
        assert self._survey is not None and cfg.survey is not None
        survey, call_id, channel, script = (
            self._survey,
            talk.entry.call_id,
            talk.caller_channel,
            cfg.survey,
        )

        async def run() -> None:
            log.info("post-call survey", call_id=call_id, script=script)
            try:
                await survey.run(call_id, channel, script)
            except Exception:
                log.exception("post-call survey failed", call_id=call_id, script=script)
                await self._hangup(channel)

        task = asyncio.create_task(run(), name=f"cti:acd-survey-{call_id}")
        self._surveys.add(task)
        task.add_done_callback(self._surveys.discard)

    async def close(self) -> None:
        """Cancel the surveys still running (shutdown)."""
        for t in list(self._surveys):
            t.cancel()
        await asyncio.gather(*self._surveys, return_exceptions=True)

    async def _until_over(self, talk: Talk) -> None:
        """Until the caller or the agent hangs up, or a transfer ends the talk. During a consultation the
        consulted leg is watched too, and a hang-up settles it as a PBX's attended transfer does: the agent's
        completes the transfer, the consulted party's brings the caller back. An attended transfer swaps the
        agent's channel and the watch goes on with the new one."""
        while True:
            talk.changed.clear()
            consult = talk.consult[0] if talk.consult is not None else None
            watched = [talk.caller_channel, talk.agent_channel] + ([consult] if consult is not None else [])
            hangups: list[asyncio.Task[Any]] = [asyncio.create_task(self._control.wait_hangup(ch)) for ch in watched]
            signals: list[asyncio.Task[Any]] = [
                asyncio.create_task(talk.ended.wait()),
                asyncio.create_task(talk.changed.wait()),
            ]
            try:
                await asyncio.wait(hangups + signals, return_when=asyncio.FIRST_COMPLETED)
                caller_left, agent_left = hangups[0].done(), hangups[1].done()
                target_left = consult is not None and hangups[2].done()
                talk.agent_left = agent_left and not caller_left
            finally:  # also when cancelled (shutdown with calls in talk): leave no waiter behind
                for t in hangups + signals:
                    t.cancel()
            if talk.ended.is_set():
                return
            still = consult is not None and talk.consult is not None and talk.consult[0] == consult
            if still and (caller_left or agent_left or target_left):
                how = (
                    ConsultEnd.CALLER_LEFT
                    if caller_left
                    else ConsultEnd.AGENT_LEFT
                    if agent_left
                    else ConsultEnd.TARGET_LEFT
                )
                if self._on_consult_end is None:
                    return
                try:
                    await self._on_consult_end(talk, how)
                except ControlError as exc:  # e.g. the caller left as the agent did: nothing to hand on
                    log.warning("consultation not settled", call_id=talk.entry.call_id, how=how, error=str(exc))
                    return
                if how is ConsultEnd.CALLER_LEFT:
                    return
                continue
            if talk.changed.is_set():  # a consultation began or ended, a transfer completed: watch anew
                continue
            if caller_left or agent_left:
                return

    async def _gone(self, channel: str, within: float) -> bool:
        """Whether ``channel`` hangs up (or has) within ``within`` clock seconds: its events may lag the REST
        error that made us ask."""
        waiter = asyncio.create_task(self._control.wait_hangup(channel))
        timer = asyncio.create_task(self._clock.sleep(within))
        try:
            await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
            return waiter.done()
        finally:
            waiter.cancel()
            timer.cancel()

    async def _free(self, agent: Agent) -> None:
        if agent.state in (AgentState.RESERVED, AgentState.RINGING):
            await self._agents.change(agent.id, AgentState.READY)

    async def _hangup(self, channel: str) -> None:
        with contextlib.suppress(ControlError):
            await self._control.hangup(channel)

    async def _destroy(self, bridge: str) -> None:
        with contextlib.suppress(ControlError):
            await self._control.destroy_bridge(bridge)
