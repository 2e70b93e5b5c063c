"""A small AMI capture writer in the header shapes of the Asterisk 22.10.1 traces (CRLF framing, ``Timestamp``,
``SystemName``, channel blocks, CEL events as ``cel_manager`` sends them) — for scenarios the traces do not hold
(``tests/calls/scenarios.py``). Each event advances the clock by 0.1 ms, as a real stream does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

DESC = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}
Fields = list[tuple[str, str]]


@dataclass
class Chan:
    name: str
    uid: str
    linkedid: str
    state: str = "0"
    num: str = ""
    cname: str = ""
    context: str = ""
    exten: str = "s"
    prio: int = 1
    connum: str = "<unknown>"
    conname: str = "<unknown>"


@dataclass
class Bridge:
    uid: str
    btype: str = "basic"
    tech: str = "simple_bridge"
    creator: str = "<unknown>"
    name: str = "<unknown>"
    n: int = 0


def _compact(obj: dict[str, object]) -> str:
    return json.dumps(obj, separators=(",", ":"))


class Gen:
    def __init__(self, t0: float) -> None:
        self.t = t0
        self.blocks = [
            "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 300\r\nLastReload: 300\r\nStatus: Fully Booted\r\n"
        ]

    def tick(self, dt: float = 0.0001) -> None:
        self.t += dt

    def ev(self, name: str, priv: str, fields: Fields) -> None:
        self.tick()
        lines = [f"Event: {name}", f"Privilege: {priv}", f"Timestamp: {self.t:.6f}", "SystemName: cti-test"]
        lines += [f"{k}: {v}" for k, v in fields]
        self.blocks.append("\r\n".join(lines) + "\r\n")

    @staticmethod
    def cb(c: Chan, p: str = "") -> Fields:
        return [
            (p + "Channel", c.name),
            (p + "ChannelState", c.state),
            (p + "ChannelStateDesc", DESC.get(c.state, "Unknown")),
            (p + "CallerIDNum", c.num or "<unknown>"),
            (p + "CallerIDName", c.cname or "<unknown>"),
            (p + "ConnectedLineNum", c.connum),
            (p + "ConnectedLineName", c.conname),
            (p + "Language", "en"),
            (p + "AccountCode", ""),
            (p + "Context", c.context),
            (p + "Exten", c.exten),
            (p + "Priority", str(c.prio)),
            (p + "Uniqueid", c.uid),
            (p + "Linkedid", c.linkedid),
        ]

    @staticmethod
    def bb(b: Bridge, p: str = "") -> Fields:
        return [
            (p + "BridgeUniqueid", b.uid),
            (p + "BridgeType", b.btype),
            (p + "BridgeTechnology", b.tech),
            (p + "BridgeCreator", b.creator),
            (p + "BridgeName", b.name),
            (p + "BridgeNumChannels", str(b.n)),
            (p + "BridgeVideoSourceMode", "none"),
        ]

    # ---- channels
    def newchannel(self, c: Chan) -> None:
        self.ev("Newchannel", "call,all", self.cb(c))
        self.cel(c, "CHAN_START")

    def newstate(self, c: Chan, state: str) -> None:
        c.state = state
        self.ev("Newstate", "call,all", self.cb(c))
        if state == "6":
            self.cel(c, "ANSWER")

    def newexten(
        self,
        c: Chan,
        app: str,
        data: str,
        exten: str | None = None,
        context: str | None = None,
        prio: int | None = None,
    ) -> None:
        c.exten = exten if exten is not None else c.exten
        c.context = context if context is not None else c.context
        c.prio = prio if prio is not None else c.prio
        self.ev(
            "Newexten", "dialplan,all", [*self.cb(c), ("Extension", c.exten), ("Application", app), ("AppData", data)]
        )

    def hanguprequest(self, c: Chan, cause: int | None = 16, soft: bool = False) -> None:
        fields = self.cb(c) + ([("Cause", str(cause))] if cause is not None else [])
        self.ev("SoftHangupRequest" if soft else "HangupRequest", "call,all", fields)

    def hangup(self, c: Chan, cause: int = 16, txt: str = "Normal Clearing") -> None:
        self.ev("Hangup", "call,all", [*self.cb(c), ("Cause", str(cause)), ("Cause-txt", txt)])

    def cel_hangup(self, c: Chan, cause: int, source: str, dialstatus: str) -> None:
        self.cel(c, "HANGUP", _compact({"hangupcause": cause, "hangupsource": source, "dialstatus": dialstatus}))
        self.cel(c, "CHAN_END")

    def end(self, c: Chan, cause: int, source: str, dialstatus: str, late: bool, txt: str = "Normal Clearing") -> None:
        """The AMI ``Hangup`` and the CEL ``HANGUP``/``CHAN_END``, the CEL record after (``late``) or before it."""
        if late:
            self.hangup(c, cause, txt)
            self.cel_hangup(c, cause, source, dialstatus)
        else:
            self.cel_hangup(c, cause, source, dialstatus)
            self.hangup(c, cause, txt)

    def dial(self, kind: str, src: Chan | None, dest: Chan, status: str = "", dialstring: str = "") -> None:
        fields = (self.cb(src) if src else []) + self.cb(dest, "Dest")
        fields.append(("DialString", dialstring) if kind == "DialBegin" else ("DialStatus", status))
        self.ev(kind, "call,all", fields)

    # ---- bridges
    def bridge_create(self, b: Bridge) -> None:
        self.ev("BridgeCreate", "call,all", self.bb(b))

    def bridge_enter(self, b: Bridge, c: Chan, swap: Chan | None = None) -> None:
        b.n += 1
        fields = self.bb(b) + self.cb(c) + ([("SwapUniqueid", swap.uid)] if swap else [])
        self.ev("BridgeEnter", "call,all", fields)
        self.cel(c, "BRIDGE_ENTER", _compact({"bridge_id": b.uid, "bridge_technology": b.tech}))

    def bridge_leave(self, b: Bridge, c: Chan) -> None:
        b.n -= 1
        self.cel(c, "BRIDGE_EXIT", _compact({"bridge_id": b.uid, "bridge_technology": b.tech}))
        self.ev("BridgeLeave", "call,all", self.bb(b) + self.cb(c))

    def bridge_destroy(self, b: Bridge) -> None:
        self.ev("BridgeDestroy", "call,all", self.bb(b))

    def cel(self, c: Chan, name: str, extra: str = "") -> None:
        self.tick()
        when = datetime.fromtimestamp(self.t, UTC).strftime("%Y-%m-%d %H:%M:%S")
        fields = [
            ("EventName", name),
            ("AccountCode", ""),
            ("CallerIDnum", c.num),
            ("CallerIDname", c.cname),
            ("CallerIDani", c.num),
            ("CallerIDrdnis", ""),
            ("CallerIDdnid", ""),
            ("Exten", c.exten),
            ("Context", c.context),
            ("Channel", c.name),
            ("Application", ""),
            ("AppData", ""),
            ("EventTime", when),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", c.uid),
            ("LinkedID", c.linkedid),
            ("Userfield", ""),
            ("Peer", ""),
            ("PeerAccount", ""),
            ("Extra", extra),
        ]
        self.ev("CEL", "call,all", fields)

    # ---- app_queue, responses
    def q(self, name: str, caller: Chan, extra: Fields, dest: Chan | None = None) -> None:
        self.ev(name, "agent,all", self.cb(caller) + (self.cb(dest, "Dest") if dest else []) + extra)

    def response(self, action_id: str, msg: str) -> None:
        self.blocks.append(f"Response: Success\r\nActionID: {action_id}\r\nMessage: {msg}\r\n")

    def capture(self) -> bytes:
        blocks = [*self.blocks, "Response: Goodbye\r\nActionID: zz\r\nMessage: Thanks for all the fish.\r\n"]
        return ("\r\n".join(blocks) + "\r\n").encode()
