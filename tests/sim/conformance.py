"""Compare the simulator's AMI/ARI streams with a recorded trace after normalising ids and timestamps.

What is compared (per scenario):
* AMI: for every channel (keyed ``<endpoint>#<n>``: the n-th channel of that endpoint, so
``PJSIP/caller-00000006``
  and the simulator's ``PJSIP/caller-0000000b`` both become ``PJSIP/caller#0``), the ordered list of its
  CORE events; plus, for each event name, the set of header keys; plus the STABLE header values of the matched
  events (same position in the per-channel list).
* ARI: the ordered event types per channel (without ``ChannelVarset``), and the key sets per event type.

ALLOWANCE (events not compared, with the reason):
* SIP/registration/transport events — ChallengeSent, SuccessfulAuth (PJSIP), PeerStatus, ContactStatus,
  RTCPSent, RTCPReceived: the simulator has no SIP/RTP; registration is scripted (``sim.agent``).
* VarSet / ChannelVarset — dialplan and app_queue set dozens of variables (65 % of scenario 13's events) in an
  order Asterisk does not fix across threads; the simulator sets the ones an engine reads (STASISSTATUS,
  DIALSTATUS, BRIDGEPEER, RTPAUDIOQOS*, caller's SIPDOMAIN).
* CEL, Cdr — emitted (CHAN_START, ANSWER, DTMF, STREAM_*, BRIDGE_*, HANGUP, CHAN_END, LINKEDID_END), but their
  position relative to channel events varies (separate taskprocessor); compared only as "present".
* DeviceStateChange, NewConnectedLine, NewCallerid, QueueMemberStatus, Hold/Unhold, ChannelConnectedLine —
  emitted asynchronously by Asterisk (device-state taskprocessor / connected-line updates); order not fixed.
* The first steps of a dialled leg (Newexten AppDial2 / DialBegin / Newstate Ringing) are compared as a set
  (``canonical``): 04, 07 and 11 each record a different order of the same three events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.sim.probes import Headers, get, parse_block

CORE = {
    "Newchannel",
    "Newstate",
    "Newexten",
    "Hangup",
    "HangupRequest",
    "SoftHangupRequest",
    "DialBegin",
    "DialState",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "DTMFBegin",
    "DTMFEnd",
    "MixMonitorStart",
    "MixMonitorMute",
    "MixMonitorStop",
}
GLOBAL = {
    "BridgeCreate",
    "BridgeDestroy",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "OriginateResponse",
    "BlindTransfer",
    "Shutdown",
    "FullyBooted",
}
STABLE = (
    "ChannelState",
    "ChannelStateDesc",
    "Cause",
    "Context",
    "Exten",
    "Priority",
    "Application",
    "Queue",
    "Position",
    "Count",
    "BridgeType",
    "DialStatus",
    "Digit",
    "Direction",
    "Class",
    "Reason",
    "Interface",
    "DestChannelState",
    "DestContext",
    "DestExten",
    "Response",
    "Paused",
    "PausedReason",
    "Membership",
    "Extension",
    "CallerIDNum",
    "CallerIDName",
    "State",
)
ARI_SKIP = {"ChannelVarset", "ChannelConnectedLine"}


def read_ami(path: Path) -> list[Headers]:
    raw = path.read_bytes().decode("utf-8")
    return [parse_block(b) for b in raw.split("\r\n\r\n") if b.strip()]


def read_ari(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["msg"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _chan_key(name: str, seen: dict[str, str], counters: dict[str, int]) -> str:
    if name not in seen:
        base = name.rsplit("-", 1)[0] if "-" in name else name
        n = counters.get(base, 0)
        counters[base] = n + 1
        seen[name] = f"{base}#{n}"
    return seen[name]


def per_channel(events: list[Headers]) -> dict[str, list[Headers]]:
    seen: dict[str, str] = {}
    counters: dict[str, int] = {}
    out: dict[str, list[Headers]] = {}
    for ev in events:
        name = get(ev, "Event")
        if name not in CORE:
            continue
        ch = get(ev, "Channel") or get(ev, "DestChannel")
        if ch is None:
            continue
        if name in ("DialBegin", "DialState", "DialEnd") and get(ev, "Channel"):
            ch = get(ev, "DestChannel") or ch  # a dial belongs to the dialled leg
        key = _chan_key(ch, seen, counters)
        out.setdefault(key, []).append(ev)
    return out


RACY_DIAL_START = {"Newexten", "DialBegin", "Newstate", "NewCallerid"}


def racy_prefix(events: list[Headers]) -> int:
    """Length of the racy dial start after Newchannel (0 when the channel was not dialled)."""
    i = 1
    while i < len(events) and get(events[i], "Event") in RACY_DIAL_START:
        i += 1
    return i - 1 if any(get(e, "Event") == "DialBegin" for e in events[1:i]) else 0


def canonical(events: list[Headers]) -> list[Headers]:
    """A dialled leg's first steps (Newexten AppDial2, DialBegin, Newstate Ringing) race between the dialling
    thread and the channel's own thread: 04, 07 and 11 record three different orders. Sort that prefix."""
    if not events or get(events[0], "Event") != "Newchannel":
        return events
    i = 1
    while i < len(events) and get(events[i], "Event") in RACY_DIAL_START:
        i += 1
    prefix = events[1:i]
    if not any(get(e, "Event") == "DialBegin" for e in prefix):
        return events
    order = {"Newexten": 0, "DialBegin": 1, "NewCallerid": 2, "Newstate": 3}
    return [events[0], *sorted(prefix, key=lambda e: order[get(e, "Event") or ""]), *events[i:]]


def compare_ami(recorded: list[Headers], actual: list[Headers], skip: set[str] = frozenset()) -> list[str]:
    diffs: list[str] = []
    rec = {k: canonical(v) for k, v in per_channel(recorded).items()}
    act = {k: canonical(v) for k, v in per_channel(actual).items()}
    if sorted(rec) != sorted(act):
        diffs.append(f"channels differ: recorded {sorted(rec)} vs simulated {sorted(act)}")
    for key in sorted(set(rec) & set(act)):
        rn = [get(e, "Event") for e in rec[key] if get(e, "Event") not in skip]
        an = [get(e, "Event") for e in act[key] if get(e, "Event") not in skip]
        if rn != an:
            diffs.append(f"{key}: event order\n  recorded:  {rn}\n  simulated: {an}")
            continue
        r_ev = [e for e in rec[key] if get(e, "Event") not in skip]
        a_ev = [e for e in act[key] if get(e, "Event") not in skip]
        racy = racy_prefix(r_ev)
        for i, (r, a) in enumerate(zip(r_ev, a_ev, strict=True)):
            if 1 <= i <= racy:
                continue  # state/exten snapshots inside the racy dial start depend on its order
            for field in STABLE:
                if field == "DestChannelState" and get(r, "Event") == "AgentCalled":
                    continue  # AgentCalled races with the dialled leg's Ringing (04 vs 07)
                if get(r, field) != get(a, field):
                    diffs.append(
                        f"{key}: {get(r, 'Event')}[{i}] {field}: recorded {get(r, field)!r} "
                        f"vs simulated {get(a, field)!r}"
                    )
    rg = [get(e, "Event") for e in recorded if get(e, "Event") in GLOBAL]
    ag = [get(e, "Event") for e in actual if get(e, "Event") in GLOBAL]
    if rg != ag:
        diffs.append(f"global events\n  recorded:  {rg}\n  simulated: {ag}")
    diffs += compare_keys(recorded, actual)
    return diffs


def compare_keys(recorded: list[Headers], actual: list[Headers]) -> list[str]:
    """Header keys of each event name present in both streams (ActionID aside)."""

    def keys(events: list[Headers]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in events:
            name = get(e, "Event")
            if name and name not in out:
                out[name] = [k for k, _ in e if k != "ActionID"]
        return out

    rk, ak = keys(recorded), keys(actual)
    diffs = []
    for name in sorted(set(rk) & set(ak) & (CORE | GLOBAL | {"CEL", "Cdr", "VarSet", "DeviceStateChange"})):
        if rk[name] != ak[name]:
            diffs.append(f"{name} header keys\n  recorded:  {rk[name]}\n  simulated: {ak[name]}")
    return diffs


def ari_per_channel(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    seen: dict[str, str] = {}
    counters: dict[str, int] = {}
    out: dict[str, list[str]] = {}
    for ev in events:
        if ev["type"] in ARI_SKIP:
            continue
        ch = ev.get("channel") or ev.get("peer")
        key = _chan_key(ch["name"], seen, counters) if ch else "-"
        out.setdefault(key, []).append(ev["type"])
    return out


ARI_RACY = {"ChannelDialplan", "Dial", "ChannelStateChange"}


def ari_canonical(types: list[str]) -> list[str]:
    """A dialled leg's ChannelDialplan (AppQueue/AppDial2), first Dial and first ChannelStateChange race
    like their AMI counterparts (scenario 13 records three orders): sort that prefix."""
    if not types or types[0] != "ChannelCreated" or "Dial" not in types[1:4]:
        return types
    i, seen = 1, set()
    while i < len(types) and types[i] in ARI_RACY and types[i] not in seen:
        seen.add(types[i])
        i += 1
    return [types[0], *sorted(types[1:i]), *types[i:]]


def compare_ari(recorded: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    diffs = []
    rec, act = ari_per_channel(recorded), ari_per_channel(actual)
    if rec != act:
        diffs.append(f"ARI events per channel\n  recorded:  {rec}\n  simulated: {act}")
    rk: dict[str, list[str]] = {}
    ak: dict[str, list[str]] = {}
    for src, dst in ((recorded, rk), (actual, ak)):
        for ev in src:
            dst.setdefault(ev["type"], list(ev))
    for t in sorted(set(rk) & set(ak)):
        if rk[t] != ak[t]:
            diffs.append(f"ARI {t} keys\n  recorded:  {rk[t]}\n  simulated: {ak[t]}")
    return diffs
