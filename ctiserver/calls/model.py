"""Leg, Call and their parts, as the tracker keeps them (mutable inside the tracker; ``snapshot()`` gives
plain, JSON-serialisable dicts that travel in domain events and to the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ctiserver.calls.call_state import CallState, call_machine
from ctiserver.calls.fsm import Machine
from ctiserver.calls.leg_state import LegState, leg_machine


class Role(StrEnum):
    CALLER = "caller"  # the first leg of a call that came in to the PBX
    # the party a call the PBX placed (Originate, dialer) was placed to: the originated channel, or what the ;2 half
    # of an originated Local channel dials
    OUTBOUND = "outbound"
    # a leg dialled for an existing call (queue member, ARI originate with originator, a Dial of its channels —
    # also of an originated channel or of its Local ;1 half), or originated alone and then joined to a call
    AGENT = "agent"
    TRANSFER_TARGET = "transfer_target"  # a leg dialed (or consulted) to take over a call in a transfer
    LOCAL = "local"  # a Local/ channel half: plumbing, never counted as a party


@dataclass(slots=True)
class HoldSpan:
    start: float
    end: float | None = None

    def seconds(self, now: float) -> float:
        return max(0.0, (self.end if self.end is not None else now) - self.start)


@dataclass(slots=True)
class Leg:
    uniqueid: str
    linkedid: str
    channel: str
    role: Role
    direction: str  # "in" (created by a request to the PBX) or "out" (the PBX dialed it)
    created: float
    caller_num: str = ""
    caller_name: str = ""
    callee_num: str = ""
    callee_name: str = ""
    ringing: float | None = None
    answered: float | None = None
    bridged: float | None = None
    ended: float | None = None
    hold: list[HoldSpan] = field(default_factory=list)
    hangup_cause: int | None = None
    hangup_cause_txt: str = ""
    hangup_source: str | None = None
    dialstatus: str = ""
    dialed_by: str | None = None
    queue: str | None = None
    agent: str | None = None
    end_reason: str | None = None  # "hangup", or why the tracker closed it (vanished, pbx_restart...)
    recordings: list[str] = field(default_factory=list)
    bridges: set[str] = field(default_factory=set)
    fsm: Machine[LegState] = field(default_factory=leg_machine)

    @property
    def state(self) -> LegState:
        return self.fsm.state

    @property
    def endpoint(self) -> str:
        """``PJSIP/1001-0000000e`` → ``PJSIP/1001``; ``Local/200@ctx-00000001;1`` → ``Local/200@ctx``."""
        name = self.channel.split(";", 1)[0]
        head, sep, tail = name.rpartition("-")
        return head if sep and tail and all(c in "0123456789abcdef" for c in tail) else name

    def hold_seconds(self, now: float) -> float:
        return sum(h.seconds(now) for h in self.hold)

    def snapshot(self) -> dict[str, Any]:
        return {
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "channel": self.channel,
            "endpoint": self.endpoint,
            "role": self.role.value,
            "direction": self.direction,
            "state": self.state.value,
            "caller_num": self.caller_num,
            "caller_name": self.caller_name,
            "callee_num": self.callee_num,
            "callee_name": self.callee_name,
            "created": self.created,
            "ringing": self.ringing,
            "answered": self.answered,
            "bridged": self.bridged,
            "ended": self.ended,
            "hold": [[h.start, h.end] for h in self.hold],
            "hangup_cause": self.hangup_cause,
            "hangup_cause_txt": self.hangup_cause_txt,
            "hangup_source": self.hangup_source,
            "dialstatus": self.dialstatus,
            "dialed_by": self.dialed_by,
            "queue": self.queue,
            "agent": self.agent,
            "end_reason": self.end_reason,
            "recordings": list(self.recordings),
        }


@dataclass(slots=True)
class QueueSegment:
    """One stay of the caller in one queue."""

    queue: str
    caller_uniqueid: str
    entered: float
    position: int = 0
    left: float | None = None
    outcome: str | None = None  # answered | abandoned | timeout | transferred (a queue→queue move) | closed
    answered: float | None = None
    agent: str | None = None
    agent_uniqueid: str | None = None
    talk_seconds: float | None = None
    complete_reason: str | None = None  # agent | caller | transfer (AgentComplete Reason)
    transfer_kind: str | None = None  # blind | attended, when the answered call was transferred
    abandon_position: int | None = None
    offered_agents: list[str] = field(default_factory=list)
    # brought back from a checkpoint while the caller waited (the daemon restarted): the ACD routing the caller
    # again continues this stay (entered before the restart) rather than opening a second one
    restored: bool = False
    # opened by the engine's own ACD (a Stasis call; ``CallService.on_engine_event``): the ACD publishes this stay's
    # ``queue.left``, and a hang-up that closes it first does not publish another one (counted twice live)
    acd: bool = False
    # a dialler's live answer the ACD gave to an agent of this queue (its ``queue.*`` events say ``outbound``):
    # counted for the agent (handled, AHT), not for the queue (docs/kpi.md, "Dialler calls")
    outbound: bool = False

    def wait_seconds(self) -> float | None:
        end = self.answered if self.answered is not None else self.left
        return None if end is None else max(0.0, end - self.entered)

    def snapshot(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "caller_uniqueid": self.caller_uniqueid,
            "entered": self.entered,
            "position": self.position,
            "left": self.left,
            "outcome": self.outcome,
            "answered": self.answered,
            "wait_seconds": self.wait_seconds(),
            "agent": self.agent,
            "agent_uniqueid": self.agent_uniqueid,
            "talk_seconds": self.talk_seconds,
            "complete_reason": self.complete_reason,
            "transfer_kind": self.transfer_kind,
            "abandon_position": self.abandon_position,
            "offered_agents": list(self.offered_agents),
            "outbound": self.outbound,
        }


@dataclass(slots=True)
class Transfer:
    kind: str  # blind | attended | threeway (an attended transfer the transferer stays in: DestType Threeway)
    at: float
    transferer: str | None  # uniqueid
    transferee: str | None
    target: str | None  # extension@context (blind) or the target leg's uniqueid (attended)
    result: str = "Success"

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "transferer": self.transferer,
            "transferee": self.transferee,
            "target": self.target,
            "result": self.result,
        }


@dataclass(slots=True)
class Call:
    call_id: str  # the linkedid of its first leg
    started: float
    legs: dict[str, Leg] = field(default_factory=dict)  # by uniqueid, in creation order
    queues: list[QueueSegment] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    ivr_path: list[dict[str, Any]] = field(default_factory=list)
    self_service: str | None = None  # the IVR's self-service outcome when the call ended there
    disposition: str | None = None
    wrapup_seconds: float = 0.0
    data: dict[str, str] = field(default_factory=dict)  # attached data, travels with transfers
    answered: float | None = None
    connected: float | None = None
    ended: float | None = None
    end_reason: str | None = None
    pending_transfer: bool = False
    merged_from: list[str] = field(default_factory=list)
    fsm: Machine[CallState] = field(default_factory=call_machine)

    @property
    def state(self) -> CallState:
        return self.fsm.state

    def first_leg(self) -> Leg | None:
        return next(iter(self.legs.values()), None)

    def party_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.role is not Role.LOCAL]

    def open_queue(self) -> QueueSegment | None:
        return next((q for q in reversed(self.queues) if q.left is None and q.answered is None), None)

    def hold_seconds(self, now: float) -> float:
        return sum(leg.hold_seconds(now) for leg in self.party_legs())

    def talk_seconds(self, now: float) -> float:
        """Conversation time: from the first connection of two parties to the end, hold excluded."""
        if self.connected is None:
            return 0.0
        return max(0.0, (self.ended if self.ended is not None else now) - self.connected - self.hold_seconds(now))

    def snapshot(self) -> dict[str, Any]:
        first = self.first_leg()
        end = self.ended if self.ended is not None else self.started
        return {
            "call_id": self.call_id,
            "state": self.state.value,
            "started": self.started,
            "answered": self.answered,
            "connected": self.connected,
            "ended": self.ended,
            "end_reason": self.end_reason,
            "direction": first.direction if first else None,
            "caller_num": first.caller_num if first else "",
            "caller_name": first.caller_name if first else "",
            "legs": [leg.snapshot() for leg in self.legs.values()],
            "queues": [q.snapshot() for q in self.queues],
            "transfers": [t.snapshot() for t in self.transfers],
            "ivr_path": list(self.ivr_path),
            "self_service": self.self_service,
            "disposition": self.disposition,
            "hold_seconds": self.hold_seconds(end),
            "talk_seconds": self.talk_seconds(end),
            "wrapup_seconds": self.wrapup_seconds,
            "data": dict(self.data),
            "merged_from": list(self.merged_from),
        }
