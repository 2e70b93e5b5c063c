"""``Lines`` over AMI: ``Originate`` a Local channel into the AMD context rendered by ``ctiserver dialplan
render`` (``Local/<number>@ctiserver-dialer`` → ``ctiserver-amd,s``), with ``ChannelId`` = the attempt id.

* The fate comes from ``OriginateResponse`` (Reason 4 answered, 5 busy, 3/1 no answer, 8 congestion, 0 failed)
  matched by Uniqueid (= our ChannelId) or, on failure, by the channel string. With a Local channel a busy or
  refused callee gives Reason 0 (pbx_outgoing_attempt sees only ``;1`` hang up: the ``;2`` half's ``Dial``
  copied the callee's cause to ``;2``, whose hang-up passes it to ``;1``), so a failure is told by the cause of
  the ``Hangup`` of ``;2`` (Uniqueid ``<attempt>;2``) or ``;1``: 17 busy, 16/18/19 no answer (``Dial``'s own
  timeout, no answer), 1/22/28 invalid (the number does not exist: never retried), anything else failed (34
  congestion, 21 rejected …). Asterisk publishes those ``Hangup``s before it sends the ``OriginateResponse``,
  but it sends the response to the AMI sessions itself (``fast_originate``) while the ``Hangup``s go through
  stasis' router thread, so they usually arrive *after* it (in trace 09 the response even precedes the
  ``Newstate Up`` that caused it): a Reason 0 without a cause yet waits up to ``_CAUSE_AFTER`` s for one; no
  ``Hangup`` at all (no channel was made) is a failure.
* The AMD result comes from the ``VarSet`` events of ``AMDSTATUS``/``AMDCAUSE`` that ``AMD()`` sets on the
  answered ``;1`` channel (and of their copies ``CTI_AMD_STATUS``/``CTI_AMD_CAUSE``): HUMAN / NOTSURE → live,
  MACHINE → machine, HANGUP → no answer.
* ``channel`` should keep ``/n``: without it Asterisk optimises the Local pair away once ``;1`` is bridged and
  the attempt's channel (our ChannelId) would hang up under the agent's call.
* The answered call enters ``Stasis(ctiserver,dialer,…)``, which fails while the daemon's ARI application is not
  connected (the dialplan then hangs up on the customer who just answered): with ``stasis_ready`` given (the
  component passes the ARI link's state), nothing is dialled while it says False.
* **Reconciliation**: when the AMI link drops, every attempt whose fate is unknown is frozen; no new call is
  placed (``can_dial`` is False) until, after the reconnect, ``CoreShowChannels`` has told which of them still
  exist. A live one is followed to its end (its answer/AMD/hangup events keep coming; a verdict AMD() gave
  while the link was down is read off the answered channel with ``Getvar``); one that is gone ends
  as ``UNKNOWN`` — stored as an attempt, retried only after the campaign's ``failed`` delay, never at once.
  A customer is never dialled twice by accident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from ctiserver.clock import Clock
from ctiserver.dialer.greeting import greeting_ended
from ctiserver.dialer.model import CampaignSettings, Outcome
from ctiserver.dialer.ports import Blocked, DialRejected, DialSpec, LineResult, NotPlaced
from ctiserver.dialer.stasis_actions import files, hang_up, play_message
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import live_channels
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiActionError, AmiError, AmiLinkLost, AmiNotConnected
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList
from ctiserver.pbx.dialplan_check import local_context

log = get_logger(__name__)

DROP_TRIES = 3  # Hangups of a ringing attempt whose channel the PBX has not made yet, 1 s apart

_AMD_VARS = ("AMDSTATUS", "AMDCAUSE", "CTI_AMD_STATUS", "CTI_AMD_CAUSE")
_CAUSE_WAIT = 0.5  # s: AMDCAUSE follows AMDSTATUS in the same burst of events
_CAUSE_AFTER = 2.0  # s: the Hangup telling why a Local channel failed may trail its OriginateResponse

REASONS = {4: Outcome.HUMAN, 5: Outcome.BUSY, 3: Outcome.NOANSWER, 1: Outcome.NOANSWER, 8: Outcome.FAILED}
CAUSES = {
    17: Outcome.BUSY,
    16: Outcome.NOANSWER,
    18: Outcome.NOANSWER,
    19: Outcome.NOANSWER,
    1: Outcome.INVALID,  # unallocated number (SIP 404 / 604)
    22: Outcome.INVALID,  # number changed (410)
    28: Outcome.INVALID,  # invalid number format (484)
}


def _code(event: AmiEvent, header: str) -> int:
    """A numeric header (``Reason``, ``Cause``); 0 when absent or malformed."""
    try:
        return int(event.get(header) or "0")
    except ValueError:
        return 0


class AmiLinesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = "Local/{number}@ctiserver-dialer/n"
    context: str = "ctiserver-amd"
    exten: str = "s"
    noamd_exten: str = "noamd"  # campaigns with ``amd: false``: straight to the dialer, no AMD() listening first
    amd_wait: float = 6.0  # after the answer, how long to wait for the AMD verdict (then: NOTSURE)
    abandon_context: str = "ctiserver-dialer-abandon"  # plays ${CTI_MESSAGE} (with the opt-out key), hangs up
    action_timeout: float = 10.0


@dataclass
class _Pending:
    spec: DialSpec
    target: str
    done: asyncio.Future[LineResult]
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    answered_at: float = 0.0
    amd: asyncio.Future[tuple[str, str]] | None = None
    amd_status: str | None = None
    amd_cause: str | None = None
    verdict_at: float | None = None  # a verdict read back after an AMI outage: when the PBX gave it (None: on receipt)
    unknown: bool = False  # the link dropped: fate to be reconciled
    untimed: bool = False  # its fate was learnt by reconciliation: the result's timing is not the call's
    timers: list[asyncio.Task[None]] = field(default_factory=list)  # waits on the clock, cancelled with it
    cause: int = 0  # of the Hangup of ;2 or ;1 before an answer (the OriginateResponse before or after it)
    failed: bool = False  # OriginateResponse said Reason 0 and no Hangup had told why yet


class AmiLines:
    def __init__(
        self,
        ami: AmiClient,
        clock: Clock,
        config: AmiLinesConfig | None = None,
        stasis_ready: Callable[[], bool] | None = None,
        after_greeting: float = 0.8,
    ) -> None:
        self.ami = ami
        self.clock = clock
        self.config = config or AmiLinesConfig()
        self.after_greeting = after_greeting  # s: AMD()'s afterGreetingSilence in the rendered dialplan
        self.stasis_ready = stasis_ready  # the ARI application that holds answered calls is there (None: not asked)
        self.context_missing: Callable[[str], bool] | None = None  # DialplanCheck.lacks, set by the component
        # HeldCalls.entered, set by the component: when an answered attempt entered our Stasis application
        self.stasis_entered: Callable[[str], float | None] | None = None
        # Standby.fresh, set by the component: the database's lease confirmed lately — no standby elsewhere can
        # have taken over and be dialling the same contacts (store/standby.py, "Fencing the dialler")
        self.lease_fresh: Callable[[], bool] | None = None
        self._pending: dict[str, _Pending] = {}  # attempt id (= channel id) → attempt
        self._reconciled = asyncio.Event()
        self._reconciled.set()
        self.reconciliations = 0
        self.names: dict[str, str] = {}  # channel id → channel name (for Redirect/Hangup)
        self._tasks: set[asyncio.Task[None]] = set()
        ami.on_event("OriginateResponse", self._on_originate)
        ami.on_event("VarSet", self._on_varset)
        ami.on_event("Hangup", self._on_hangup)
        ami.on_disconnect(self._on_disconnect)
        ami.on_reconnect(self._on_reconnect)

    # ---- Lines --------------------------------------------------------------------------------------------
    def blocked(self) -> Blocked | None:
        if self.lease_fresh is not None and not self.lease_fresh():
            return Blocked("lease_unconfirmed")
        if not self.ami.connected.is_set():
            return Blocked("ami_down")
        if not self._reconciled.is_set():
            return Blocked("reconciling")
        if self.stasis_ready is not None and not self.stasis_ready():
            return Blocked("ari_away")
        if missing := self._dialplan_missing():
            return Blocked("dialplan_missing", ",".join(missing))
        return None

    def can_dial(self) -> bool:
        return self.blocked() is None

    def _dialplan_missing(self) -> list[str]:
        """The contexts an attempt runs through that the PBX lacks (``DialplanCheck.lacks``): the Local channel
        would fail in ``local_call`` with no cause — no answer to learn from, an attempt spent. Nothing is dialled."""
        c, lacks = self.config, self.context_missing
        if lacks is None:
            return []
        where = (c.channel, f"Local/s@{c.context}", f"Local/s@{c.abandon_context}")
        return [str(local_context(endpoint)) for endpoint in where if lacks(endpoint)]

    async def place(self, spec: DialSpec) -> LineResult:
        c, contact = spec.campaign, spec.contact
        target = self.config.channel.format(number=contact.number.lstrip("+"), e164=contact.number)
        loop = asyncio.get_running_loop()
        p = _Pending(spec, target, loop.create_future())
        self._pending[spec.attempt_id] = p
        exten = self.config.exten if c.amd else self.config.noamd_exten
        headers: list[tuple[str, str]] = [
            ("Channel", target),
            ("Context", self.config.context),
            ("Exten", exten),
            ("Priority", "1"),
            ("Timeout", str(int(c.ring_timeout * 1000))),
            ("CallerID", f'"{c.caller_name}" <{cid}>' if (cid := c.caller_id_for(contact.number)) else ""),
            ("Async", "true"),
            ("ChannelId", spec.attempt_id),
            ("Variable", f"_CTI_ATTEMPT={spec.attempt_id}"),
            ("Variable", f"CTI_CAMPAIGN={c.name}"),
            ("Variable", f"CTI_CONTACT_ID={contact.id}"),
            # for the dialplan's own hold and message when Stasis fails (our ARI application is not there): what
            # is left of the two seconds once AMD() said HUMAN, after ``after_greeting`` s of silence (greeting.py)
            ("Variable", f"CTI_GRACE={self._grace(c):g}"),
            ("Variable", f"CTI_MESSAGE={files(c.abandon_message)}"),
            # the message's opt-out (``Read()`` in ctiserver-dialer-abandon; opt_out.py): the key and the wait after
            ("Variable", f"CTI_OPTOUT_KEY={c.opt_out_key}"),
            ("Variable", f"CTI_OPTOUT_WAIT={c.opt_out_wait:g}"),
        ]
        try:
            if self.lease_fresh is not None and not self.lease_fresh():  # stalled since pace_once looked: a
                raise NotPlaced("the database's lease is not confirmed")  # standby may be dialling by now
            try:
                response = await self.ami.action("Originate", headers, timeout=self.config.action_timeout)
            except AmiLinkLost:
                p.unknown = True  # it may have been sent: only CoreShowChannels can tell
                return await self._fate(p)
            except AmiNotConnected as exc:
                raise NotPlaced(str(exc)) from exc
            except AmiError as exc:  # a timeout: it may have been sent, reconcile like a link loss
                log.warning("originate without response", attempt=spec.attempt_id, error=str(exc))
                p.unknown = True
                self._reconciled.clear()
                self._spawn_reconcile()
                return await self._fate(p)
            if isinstance(response, AmiEventList):
                return LineResult(Outcome.FAILED)
            if not response.ok:  # refused before anything was queued: no channel, no OriginateResponse
                if response.message == "Originate failed":  # async: Asterisk could not start the originate
                    raise NotPlaced(response.message)  # thread (memory, threads) — passing, not the set-up's fault
                where = f"{self.config.context},{exten},1"
                raise DialRejected(f"the PBX refused the Originate of {target} into {where}: {response.message}")
            return await self._fate(p)
        finally:
            for timer in self._pending.pop(spec.attempt_id, p).timers:
                timer.cancel()

    def _later(self, p: _Pending, delay: float, then: Callable[[_Pending], None]) -> None:
        """``then(p)`` after ``delay`` s of the injected clock, unless the attempt is over by then."""

        async def wait() -> None:
            await self.clock.sleep(delay)
            then(p)

        p.timers.append(asyncio.get_running_loop().create_task(wait(), name="cti:dialer-line-wait"))

    async def _fate(self, p: _Pending) -> LineResult:
        result = await p.done
        return replace(result, timed=False) if p.untimed else result

    def _grace(self, c: CampaignSettings) -> float:
        """The dialplan's hold of an answer when Stasis fails (``nostasis``: ``Wait(${CTI_GRACE})`` from the
        verdict): without AMD the whole wait for an agent; with it, the wait less the after-greeting silence
        AMD() listened to before saying HUMAN (the silence reported is at least that, so the hold never ends
        past the two seconds by more than AMD's 20-ms frame)."""
        return round(max(0.0, c.agent_wait - self.after_greeting) if c.amd else c.agent_wait, 3)

    async def abandon(self, channel: str, media: Sequence[str]) -> None:
        """The message (``stasis_actions.py``: sent again after an AMI outage cut it off)."""
        name, context = self._name(channel), self.config.abandon_context
        await play_message(self.ami, self.clock, channel, name, media, context, self.config.action_timeout)

    async def hangup(self, channel: str) -> None:
        """A machine with no message (``stasis_actions.py``: sent again after an AMI outage cut it off)."""
        await hang_up(self.ami, self.clock, channel, self._name(channel), self.config.action_timeout)

    async def drop(self, attempt_id: str) -> bool:
        """Hang up an attempt still ringing (its campaign was stopped); its ``place`` then ends as the PBX tells
        (cause 16: no answer). False when it was answered already, or the link is down: it goes on, to an agent
        or the message, as any answer. Before session 29 the runner cancelled the attempt's task alone: the
        callee's phone rang on and whoever answered was held in ``Stasis`` in silence, counted nowhere."""
        p = self._pending.get(attempt_id)
        for _ in range(DROP_TRIES):
            if p is None or p.answered.is_set() or p.done.done():
                return False
            headers = [("Channel", self._name(attempt_id)), ("Cause", "16")]
            try:
                response = await self.ami.action("Hangup", headers, timeout=self.config.action_timeout)
            except AmiError:
                return False
            if not isinstance(response, AmiEventList) and response.ok:
                return True
            await self.clock.sleep(1.0)  # "No such channel": the originate thread may not have made it yet
        return False

    def _name(self, channel: str) -> str:
        """AMI actions want the channel name; we keep the uniqueid (= our ChannelId)."""
        return self.names.get(channel, channel)

    # ---- events -------------------------------------------------------------------------------------------
    def _find(self, event: AmiEvent) -> _Pending | None:
        uid = event.get("Uniqueid") or ""
        p = self._pending.get(uid)
        if p is not None:
            return p
        channel = event.get("Channel") or ""
        for cand in self._pending.values():
            if cand.target == channel and not cand.answered.is_set():
                return cand
        return None

    def _on_originate(self, event: AmiEvent) -> None:
        p = self._find(event)
        if p is None or p.done.done():
            return
        reason = _code(event, "Reason")
        if (event.get("Response") or "") == "Success" and reason == 4:
            self._answered(p, event)
            return
        if reason == 0:
            if p.cause:
                p.done.set_result(LineResult(CAUSES.get(p.cause, Outcome.FAILED)))
            elif not p.failed:  # the Hangups that tell why usually come next (see the module's doc)
                p.failed = True
                self._later(p, _CAUSE_AFTER, self._no_cause)
            return
        outcome = REASONS.get(reason, Outcome.FAILED)
        p.done.set_result(LineResult(Outcome.FAILED if outcome is Outcome.HUMAN else outcome))

    def _no_cause(self, p: _Pending) -> None:
        """No Hangup after a failed OriginateResponse: no channel was made (an unknown endpoint, no memory)."""
        if not p.done.done():
            p.done.set_result(LineResult(CAUSES.get(p.cause, Outcome.FAILED)))

    def _answered(self, p: _Pending, event: AmiEvent | None) -> None:
        if p.answered.is_set():
            return
        p.answered.set()
        p.answered_at = self.clock.now()
        if event is not None and event.get("Channel"):
            self.names[p.spec.attempt_id] = event.get("Channel") or ""
        self._await_verdict(p)

    def _await_verdict(self, p: _Pending) -> None:
        if p.amd_status is not None:
            self._verdict(p)
        else:
            self._later(p, self.config.amd_wait, self._amd_timeout)

    def _amd_timeout(self, p: _Pending) -> None:
        """No verdict within the AMD wait: NOTSURE (a person). Not while the link is down: AMD() may have given
        one nobody heard — the reconciliation reads it, or waits again (before session 28 an outage longer than
        the wait sent machines to agents as NOTSURE)."""
        if not p.done.done() and not p.unknown:
            p.amd_status = p.amd_status or "NOTSURE"
            p.amd_cause = p.amd_cause or "TIMEOUT"
            self._verdict(p)

    def _verdict(self, p: _Pending) -> None:
        if p.done.done():
            return
        status = (p.amd_status or "NOTSURE").upper()
        if status == "HANGUP":  # the callee hung up during the analysis: nobody to talk to
            p.done.set_result(LineResult(Outcome.NOANSWER, None, status, p.amd_cause or "HANGUP"))
            return
        outcome = Outcome.MACHINE if status == "MACHINE" else Outcome.HUMAN
        at, answered_at = self.clock.now(), p.answered_at
        if p.verdict_at is not None:  # read back after an outage: given then, after an answer nobody saw
            at = min(p.verdict_at, at)
            answered_at = at - self.config.amd_wait
        greeting = greeting_ended(p.amd_cause, at, answered_at, self.after_greeting)
        p.done.set_result(LineResult(outcome, p.spec.attempt_id, status, p.amd_cause or None, greeting))

    def _on_varset(self, event: AmiEvent) -> None:
        """app_amd sets AMDSTATUS then AMDCAUSE on the channel running AMD() (the originated ``;1``, whose
        Uniqueid is our ChannelId); the rendered dialplan copies them to CTI_AMD_STATUS/CTI_AMD_CAUSE. The
        verdict is given once both are known (either pair, in either order), or shortly after the status."""
        var = (event.get("Variable") or "").upper()
        if var not in _AMD_VARS:
            return
        p = self._pending.get(event.get("Uniqueid") or "")
        if p is None or p.done.done():
            return
        value = event.get("Value") or ""
        if var.endswith("STATUS"):
            p.amd_status = value or "NOTSURE"
            if p.amd_cause is None:
                self._later(p, _CAUSE_WAIT, self._status_only)
                return
        else:
            p.amd_cause = value
            if p.amd_status is None:
                return
        if p.answered.is_set():
            self._verdict(p)

    def _status_only(self, p: _Pending) -> None:
        if p.answered.is_set():
            self._verdict(p)

    def _on_hangup(self, event: AmiEvent) -> None:
        uid = event.get("Uniqueid") or ""
        half = uid.endswith(";2")  # the Local pair's other half: it ran Dial to the callee
        p = self._pending.get(uid[:-2] if half else uid)
        if p is None or p.done.done():
            return
        if p.answered.is_set():  # answered, then gone before the verdict: nobody to talk to
            if not half:
                p.done.set_result(LineResult(Outcome.NOANSWER, None, p.amd_status, "HANGUP"))
        elif p.unknown and not half:
            p.done.set_result(LineResult(Outcome.NOANSWER))
        else:  # why the callee was not reached; the OriginateResponse (Reason 0) may come before or after
            p.cause = p.cause or _code(event, "Cause")
            if p.failed and p.cause:
                p.done.set_result(LineResult(CAUSES.get(p.cause, Outcome.FAILED)))

    # ---- link loss and reconciliation ------------------------------------------------------------------
    def _on_disconnect(self) -> None:
        self._reconciled.clear()
        for p in self._pending.values():
            if not p.done.done():
                p.unknown = True

    def _spawn_reconcile(self) -> None:
        async def run() -> None:
            try:
                await self.reconcile()
            except AmiError as exc:  # the link went down again: the reconnect will reconcile
                log.warning("reconciliation failed", error=str(exc))
                return
            self._reconciled.set()

        task = asyncio.get_running_loop().create_task(run(), name="cti:dialer-reconcile")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_reconnect(self) -> None:
        if self._reconciled.is_set():
            return  # first login
        try:
            await self.reconcile()
        finally:
            self._reconciled.set()

    async def reconcile(self) -> None:
        """Ask the PBX which of our unknown attempts still exist; end the others as UNKNOWN."""
        self.reconciliations += 1
        unknown = [p for p in self._pending.values() if p.unknown and not p.done.done()]
        if not unknown:
            return
        try:
            alive = await live_channels(self.ami, timeout=self.config.action_timeout, share=True)
        except AmiActionError as exc:  # refused (the read class): none can be followed, all end as unknown
            log.warning("channels not listed after AMI reconnect", error=str(exc))
            alive = {}
        for p in unknown:
            ev = alive.get(p.spec.attempt_id)
            up = ev is not None and (ev.get("ChannelStateDesc") or "").lower() == "up"
            # gone, or answered while nobody saw it: when the runner learns of it is not when it happened
            p.untimed = ev is None or (up and not p.answered.is_set())
            if ev is None:
                log.warning("attempt fate unknown after AMI reconnect", attempt=p.spec.attempt_id)
                if not p.done.done():
                    p.done.set_result(LineResult(Outcome.UNKNOWN))
                continue
            self.names[p.spec.attempt_id] = ev.get("Channel") or ""
            if up:
                await self._read_verdict(p, ev.get("Channel") or "")
            p.unknown = False  # from here the AMD wait may decide again
            if up and p.answered.is_set():  # seen answered before the outage: its AMD wait was held meanwhile
                self._await_verdict(p)
            elif up:
                self._answered(p, None)

    async def _read_verdict(self, p: _Pending, channel: str) -> None:
        """An attempt answered while the link was down: AMD() may have said its verdict then (the ``VarSet``
        events reached nobody). It stays on the channel: ``Getvar`` reads it (app_amd's variables, else the
        rendered dialplan's copies, which are all a campaign without AMD sets). Empty: AMD() is still
        listening, its ``VarSet`` events are on their way over the new link. When it was given is when the call
        entered our Stasis application (ARI, if it stayed up), the dialplan's next step: the callee may have
        waited through the outage, and the two seconds for an agent run from their greeting, not from now."""
        for status_var, cause_var in (("AMDSTATUS", "AMDCAUSE"), ("CTI_AMD_STATUS", "CTI_AMD_CAUSE")):
            if p.amd_status is not None:
                return
            status = await self._getvar(channel, status_var)
            if status:
                cause = await self._getvar(channel, cause_var)
                if p.amd_status is None:  # a VarSet that came meanwhile is as good
                    p.amd_status, p.amd_cause = status, cause
                    # the dialplan enters Stasis right after the verdict: the law's two seconds ran from then
                    p.verdict_at = self.stasis_entered(p.spec.attempt_id) if self.stasis_entered else None
                return

    async def _getvar(self, channel: str, var: str) -> str:
        try:
            result: Any = await self.ami.action(
                "Getvar", [("Channel", channel), ("Variable", var)], timeout=self.config.action_timeout
            )
        except (AmiLinkLost, AmiNotConnected):
            raise  # down again: the next reconnect reconciles
        except AmiError as exc:  # no answer in time: AMD()'s VarSet, if any, or the AMD wait decides
            log.info("Getvar failed", channel=channel, variable=var, error=str(exc))
            return ""
        # an Error response: the channel hung up meanwhile, its Hangup tells the rest
        return str(result.get("Value") or "") if result.get("Response") == "Success" else ""
