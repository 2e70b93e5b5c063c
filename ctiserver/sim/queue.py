"""An app_queue model for observer-mode tests: members added/paused over AMI, ringall/rrmemory/leastrecent
distribution with autofill, ring timeout/retry, and the events + queue_log facts Asterisk writes."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ctiserver.sim import bridging, media
from ctiserver.sim.config import QueueConfig
from ctiserver.sim.dial import dial_event, dial_out, start_far_end
from ctiserver.sim.fmt import chan_headers
from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

QUEUE_LOG_LINES = 100_000

DEVICE_STATUS = {
    "UNKNOWN": 0,
    "NOT_INUSE": 1,
    "INUSE": 2,
    "BUSY": 3,
    "INVALID": 4,
    "UNAVAILABLE": 5,
    "RINGING": 6,
    "RINGINUSE": 7,
    "ONHOLD": 8,
}


@dataclass(eq=False)
class Member:
    interface: str
    name: str
    membership: str = "dynamic"
    penalty: int = 0
    paused: bool = False
    reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    ringing: bool = False


@dataclass(eq=False)
class QueueState:
    config: QueueConfig
    members: list[Member] = field(default_factory=list)
    index: dict[str, Member] = field(default_factory=dict)  # interface (lower case) -> member
    callers: list[Channel] = field(default_factory=list)
    rr_next: int = 0
    completed: int = 0
    abandoned: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class QueueError(Exception):
    pass


class Queues:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queues = {q.name: QueueState(q) for q in engine.config.queues}
        # Asterisk appends queue_log to a file; the simulator keeps the latest lines (a demo runs for days)
        self.log: deque[str] = deque(maxlen=QUEUE_LOG_LINES)
        for q in self.queues.values():
            for iface in q.config.members:
                m = Member(iface, iface, membership="static", login_time=int(engine.clock.now()))
                q.members.append(m)
                q.index[iface.lower()] = m

    # -- members (AMI QueueAdd/QueueRemove/QueuePause) ---------------------------------------------
    def get(self, name: str) -> QueueState:
        q = self.queues.get(name)
        if q is None:
            raise QueueError("Unable to add interface to queue: No such queue")
        return q

    def log_fact(self, callid: str, queue: str, agent: str, event: str, *data: str) -> None:
        self.log.append("|".join([str(int(self.engine.clock.now())), callid, queue, agent, event, *data]))

    def member_headers(self, q: QueueState, m: Member) -> list[tuple[str, str]]:
        ep = self.engine.endpoints.get(m.interface)
        state = ep.device_state() if ep else "INVALID"  # a ringing member shows BUSY (device_state_busy_at=1)
        return [
            ("Queue", q.config.name),
            ("MemberName", m.name),
            ("Interface", m.interface),
            ("StateInterface", m.interface),
            ("Membership", m.membership),
            ("Penalty", str(m.penalty)),
            ("CallsTaken", str(m.calls_taken)),
            ("LastCall", str(m.last_call)),
            ("LastPause", str(m.last_pause)),
            ("LoginTime", str(m.login_time)),
            ("InCall", "1" if m.in_call else "0"),
            ("Status", str(DEVICE_STATUS.get(state, 0))),
            ("Paused", "1" if m.paused else "0"),
            ("PausedReason", m.reason),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ]

    def _member_event(self, name: str, q: QueueState, m: Member) -> None:
        self.engine.hub.ami(name, "agent,all", self.member_headers(q, m))

    def add(
        self, queue: str, interface: str, name: str = "", penalty: int = 0, paused: bool = False, reason: str = ""
    ) -> None:
        q = self.get(queue)
        if interface.lower() in q.index:
            raise QueueError("Unable to add interface: Already there")
        m = Member(
            interface,
            name or interface,
            penalty=penalty,
            paused=paused,
            reason=reason if paused else "",  # app_queue keeps the Reason of a member added paused
            login_time=int(self.engine.clock.now()),
        )
        q.members.append(m)
        q.index[interface.lower()] = m
        self._member_event("QueueMemberAdded", q, m)
        self.log_fact("MANAGER", queue, m.name, "ADDMEMBER", "")
        q.poke()

    def remove(self, queue: str, interface: str) -> None:
        q = self.queues.get(queue)
        m = self._find(q, interface) if q else None
        if q is None or m is None:
            raise QueueError("Unable to remove interface: Not there")
        q.members.remove(m)
        q.index.pop(m.interface.lower(), None)
        self._member_event("QueueMemberRemoved", q, m)
        self.log_fact("MANAGER", queue, m.name, "REMOVEMEMBER", "")

    def pause(self, queue: str | None, interface: str, paused: bool, reason: str = "") -> None:
        found = False
        for q in self.queues.values():
            if queue and q.config.name != queue:
                continue
            m = self._find(q, interface)
            if m is None:
                continue
            found = True
            m.paused, m.reason = paused, reason if paused else ""
            if paused:
                m.last_pause = int(self.engine.clock.now())
            self._member_event("QueueMemberPause", q, m)
            self.log_fact(
                "NONE", q.config.name, m.name, "PAUSE" if paused else "UNPAUSE", reason if paused else ""
            )
            q.poke()
        if not found:
            raise QueueError("Interface not found")

    def device_changed(self, interface: str) -> None:
        for q in self.queues.values():
            m = self._find(q, interface)
            if m is not None:
                self._member_event("QueueMemberStatus", q, m)
                q.poke()

    @staticmethod
    def _find(q: QueueState | None, interface: str) -> Member | None:
        return None if q is None else q.index.get(interface.lower())

    # -- the Queue() application -------------------------------------------------------------------
    def _free(self, m: Member) -> bool:
        if m.paused or m.in_call or m.ringing:
            return False
        ep = self.engine.endpoints.get(m.interface)
        return ep is not None and ep.registered and not ep.channels

    def _available(self, q: QueueState, limit: int | None = None) -> list[Member]:
        """Free members in member order (at most ``limit``)."""
        out = []
        for m in q.members:
            if self._free(m):
                out.append(m)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def _pick(self, q: QueueState, position: int) -> list[Member]:
        """The members the caller at ``position`` rings now (autofill: one free member per waiting caller)."""
        strategy = q.config.strategy
        if strategy == "ringall":
            avail = self._available(q)
            return avail if len(avail) >= position else []
        if len(self._available(q, limit=position)) < position:
            return []
        if strategy == "leastrecent":
            avail = self._available(q)
            return [min(avail, key=lambda m: (m.last_call, q.members.index(m)))]
        n = len(q.members)  # rrmemory: the next free member after the last one rung, in member order
        for i in range(n):
            idx = (q.rr_next + i) % n
            m = q.members[idx]
            if self._free(m):
                q.rr_next = (idx + 1) % n
                return [m]
        return []

    async def run(self, ch: Channel, data: str) -> None:
        engine = self.engine
        name = data.split(",")[0]
        q = self.queues.get(name)
        if q is None:
            engine.set_var(ch, "QUEUESTATUS", "UNKNOWN")
            return
        q.callers.append(ch)
        joined = engine.clock.now()
        pos = len(q.callers)
        engine.ami_chan(
            "QueueCallerJoin",
            ch,
            [("Queue", name), ("Position", str(pos)), ("Count", str(len(q.callers)))],
            privilege="agent,all",
        )
        self.log_fact(ch.id, name, "NONE", "ENTERQUEUE", "", ch.caller_num, str(pos))
        media.moh_start(engine, ch, q.config.musicclass)

        def leave() -> int:
            position = q.callers.index(ch) + 1
            q.callers.remove(ch)
            engine.ami_chan(
                "QueueCallerLeave",
                ch,
                [("Queue", name), ("Position", str(position)), ("Count", str(len(q.callers)))],
                privilege="agent,all",
            )
            q.poke()
            return position

        def abandon(_: Channel) -> None:
            if ch not in q.callers:
                return
            media.moh_stop(engine, ch)
            position = q.callers.index(ch) + 1
            held = int(engine.clock.now() - joined)
            engine.ami_chan(
                "QueueCallerAbandon",
                ch,
                [
                    ("Queue", name),
                    ("Position", str(position)),
                    ("OriginalPosition", str(pos)),
                    ("HoldTime", str(held)),
                ],
                privilege="agent,all",
            )
            q.abandoned += 1
            self.log_fact(ch.id, name, "NONE", "ABANDON", str(position), str(pos), str(held))
            leave()

        remove_hook = engine.on_hangup(ch, abandon)
        while True:
            position = q.callers.index(ch) + 1
            members = self._pick(q, position)
            if not members:
                await q.changed.wait()
                continue
            winner = await self._ring(ch, q, members)
            if winner is None:
                await engine.clock.sleep(q.config.retry)
                continue
            break
        remove_hook()
        member, out, rang_at = winner
        media.moh_stop(engine, ch)
        leave()
        held = int(engine.clock.now() - joined)
        ring = int(engine.clock.now() - rang_at)
        dest = chan_headers(out, "Dest")
        info = [("Queue", name), ("Interface", member.interface), ("MemberName", member.name)]
        engine.ami_chan(
            "AgentConnect",
            ch,
            dest + info + [("HoldTime", str(held)), ("RingTime", str(ring))],
            privilege="agent,all",
        )
        self.log_fact(ch.id, name, member.name, "CONNECT", str(held), out.id, str(ring))
        member.in_call = True
        connected_at = engine.clock.now()
        br = bridging.create(engine, bridge_type="mixing", bridge_class="basic")

        def complete(gone: Channel) -> None:
            talk = int(engine.clock.now() - connected_at)
            transfer = gone.tags.get("transfer")
            reason = "transfer" if transfer else ("agent" if gone is out else "caller")
            engine.ami_chan(
                "AgentComplete",
                ch,
                chan_headers(out, "Dest")
                + info
                + [("HoldTime", str(held)), ("TalkTime", str(talk)), ("Reason", reason)],
                privilege="agent,all",
            )
            if transfer:
                kind = gone.tags.get("transfer_kind", "BLINDTRANSFER")
                facts = [kind, transfer[0], transfer[1], str(held), str(talk), str(pos)]
            else:
                event = "COMPLETEAGENT" if reason == "agent" else "COMPLETECALLER"
                facts = [event, str(held), str(talk), str(pos)]
            self.log_fact(ch.id, name, member.name, *facts)
            member.in_call = False
            member.calls_taken += 1
            member.last_call = int(engine.clock.now())
            q.completed += 1
            q.poke()

        done = [False]

        def once(gone: Channel) -> None:
            if not done[0]:
                done[0] = True
                complete(gone)

        engine.on_hangup(out, once)
        engine.on_hangup(ch, once)
        bridging.enter(engine, br, out)
        bridging.enter(engine, br, ch)
        await ch.done.wait()

    async def _ring(
        self, ch: Channel, q: QueueState, members: list[Member]
    ) -> tuple[Member, Channel, float] | None:
        engine = self.engine
        rang_at = engine.clock.now()
        legs: list[tuple[Member, Channel]] = []
        for m in members:
            try:
                out = dial_out(
                    engine,
                    m.interface,
                    connected=(ch.caller_name, ch.caller_num),
                    linkedid=ch.linkedid,
                    exten=ch.exten,
                    app=("AppQueue", "(Outgoing Line)"),
                )
            except Exception:
                continue
            m.ringing = True
            legs.append((m, out))
            info = [("Queue", q.config.name), ("Interface", m.interface), ("MemberName", m.name)]
            engine.ami_chan("AgentCalled", ch, chan_headers(out, "Dest") + info, privilege="agent,all")
            dial_event(engine, "DialBegin", out, m.interface.split("/", 1)[-1], caller=ch)
        if not legs:
            return None
        answered: asyncio.Future[Channel] = asyncio.get_running_loop().create_future()

        def on_ringing(out: Channel) -> None:
            dial_event(engine, "DialState", out, "", caller=ch, status="RINGING")

        def on_answer(out: Channel) -> None:
            if not answered.done():
                answered.set_result(out)

        def cancel_all(_: Channel) -> None:
            for m, out in legs:
                m.ringing = False
                if not out.hung_up:
                    dial_event(engine, "DialEnd", out, "", caller=ch, status="CANCEL")
                    engine.hangup(out, 0, request=False)

        remove = engine.on_hangup(ch, cancel_all)
        for _m, out in legs:
            out.tags["on_ringing"] = on_ringing
            out.tags["on_answer"] = on_answer
            start_far_end(engine, out)
        try:
            winner = await engine.wait_for(answered, q.config.timeout)
        except TimeoutError:
            winner = None
        remove()
        result = None
        for m, out in legs:
            m.ringing = False
            if out is winner:
                result = (m, out, rang_at)
                continue
            status = "CANCEL" if winner is not None else "NOANSWER"
            dial_event(engine, "DialEnd", out, "", caller=ch, status=status)
            if winner is None:
                info = [
                    ("Queue", q.config.name),
                    ("Interface", m.interface),
                    ("MemberName", m.name),
                    ("RingTime", str(int(engine.clock.now() - rang_at))),
                ]
                engine.ami_chan(
                    "AgentRingNoAnswer", ch, chan_headers(out, "Dest") + info, privilege="agent,all"
                )
                self.log_fact(
                    ch.id,
                    q.config.name,
                    m.name,
                    "RINGNOANSWER",
                    str(int((engine.clock.now() - rang_at) * 1000)),
                )
            engine.hangup(out, 26 if winner is not None else 19, request=False)
        if winner is not None:
            dial_event(engine, "DialEnd", winner, "", caller=ch, status="ANSWER")
        q.poke()
        return result
