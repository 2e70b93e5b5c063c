"""AMI actions of the simulator, part 2: queues (QueueAdd/Remove/Pause/Status/Summary) and PJSIP listings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.sim.ami_actions import _list_event, action
from ctiserver.sim.queue import QueueError

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession


@action("QueueAdd")
async def _qadd(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    try:
        s.sim.engine.queues.add(
            msg.get("queue", ""),
            msg.get("interface", ""),
            msg.get("membername", ""),
            int(msg.get("penalty", "0") or 0),
            msg.get("paused", "false").lower() in ("1", "true", "yes"),
            msg.get("reason", ""),
        )
    except QueueError as exc:
        s.respond(aid, "Error", str(exc))
        return
    s.respond(aid, "Success", "Added interface to queue")


@action("QueueRemove")
async def _qremove(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    try:
        s.sim.engine.queues.remove(msg.get("queue", ""), msg.get("interface", ""))
    except QueueError as exc:
        s.respond(aid, "Error", str(exc))
        return
    s.respond(aid, "Success", "Removed interface from queue")


@action("QueuePause")
async def _qpause(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    paused = msg.get("paused", "").lower() in ("1", "true", "yes")
    try:
        s.sim.engine.queues.pause(
            msg.get("queue") or None, msg.get("interface", ""), paused, msg.get("reason", "")
        )
    except QueueError as exc:
        s.respond(aid, "Error", str(exc))
        return
    s.respond(
        aid, "Success", "Interface paused successfully" if paused else "Interface unpaused successfully"
    )


@action("QueueStatus")
async def _qstatus(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    qs = s.sim.engine.queues
    s.respond(aid, "Success", "Queue status will follow", [("EventList", "start")])
    n = 0
    now = s.sim.clock.now()
    for q in qs.queues.values():
        if msg.get("queue") and msg["queue"] != q.config.name:
            continue
        n += 1
        _list_event(
            s,
            "QueueParams",
            aid,
            [
                ("Queue", q.config.name),
                ("Max", "0"),
                ("Strategy", q.config.strategy),
                ("Calls", str(len(q.callers))),
                ("Holdtime", "0"),
                ("TalkTime", "0"),
                ("Completed", str(q.completed)),
                ("Abandoned", str(q.abandoned)),
                ("ServiceLevel", "0"),
                ("ServicelevelPerf", "0.0"),
                ("ServicelevelPerf2", "0.0"),
                ("Weight", "0"),
            ],
        )
        for m in q.members:
            n += 1
            member = qs.member_headers(q, m)
            _list_event(
                s,
                "QueueMember",
                aid,
                [("Queue", q.config.name), ("Name", m.name), ("Location", m.interface), *member[3:]],
            )
        for i, ch in enumerate(q.callers, 1):
            n += 1
            _list_event(
                s,
                "QueueEntry",
                aid,
                [
                    ("Queue", q.config.name),
                    ("Position", str(i)),
                    ("Channel", ch.name),
                    ("Uniqueid", ch.id),
                    ("CallerIDNum", ch.caller_num or "unknown"),
                    ("CallerIDName", ch.caller_name or "unknown"),
                    ("ConnectedLineNum", ch.connected_num or "unknown"),
                    ("ConnectedLineName", ch.connected_name or "unknown"),
                    ("Wait", str(int(now - ch.created))),
                    ("Priority", "0"),
                ],
            )
    _list_event(s, "QueueStatusComplete", aid, [("EventList", "Complete"), ("ListItems", str(n))])


@action("QueueSummary")
async def _qsummary(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    qs = s.sim.engine.queues
    s.respond(aid, "Success", "Queue summary will follow", [("EventList", "start")])
    n = 0
    for q in qs.queues.values():
        if msg.get("queue") and msg["queue"] != q.config.name:
            continue
        n += 1
        avail = len(qs._available(q))
        _list_event(
            s,
            "QueueSummary",
            aid,
            [
                ("Queue", q.config.name),
                ("LoggedIn", str(len(q.members))),
                ("Available", str(avail)),
                ("Callers", str(len(q.callers))),
                ("HoldTime", "0"),
                ("TalkTime", "0"),
                ("LongestHoldTime", "0"),
            ],
        )
    _list_event(s, "QueueSummaryComplete", aid, [("EventList", "Complete"), ("ListItems", str(n))])


@action("PJSIPShowEndpoints")
async def _pjsip_eps(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    eps = list(s.sim.engine.endpoints.values())
    s.respond(
        aid,
        "Success",
        "A listing of Endpoints follows, presented as EndpointList events",
        [("EventList", "start")],
    )
    for ep in eps:
        _list_event(
            s,
            "EndpointList",
            aid,
            [
                ("ObjectType", "endpoint"),
                ("ObjectName", ep.resource),
                ("Transport", "transport-udp"),
                ("Aor", ep.resource),
                ("Auths", ep.resource),
                ("OutboundAuths", ""),
                ("Contacts", f"{ep.resource}/sip:{ep.resource}@127.0.0.1:5070," if ep.registered else ""),
                ("DeviceState", _ds_text(ep.device_state())),
                ("ActiveChannels", ",".join(sorted(ep.channels))),
            ],
        )
    _list_event(s, "EndpointListComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(eps)))])


def _ds_text(state: str) -> str:
    return {
        "NOT_INUSE": "Not in use",
        "BUSY": "Busy",
        "INUSE": "In use",
        "UNAVAILABLE": "Unavailable",
        "RINGING": "Ringing",
    }.get(state, "Unknown")


@action("PJSIPShowContacts")
async def _pjsip_contacts(
    s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]
) -> None:
    eps = [ep for ep in s.sim.engine.endpoints.values() if ep.registered]
    s.respond(
        aid,
        "Success",
        "A listing of Contacts follows, presented as ContactList events",
        [("EventList", "start")],
    )
    for ep in eps:
        uri = f"sip:{ep.resource}@127.0.0.1:5070"
        _list_event(
            s,
            "ContactList",
            aid,
            [
                ("ObjectType", "contact"),
                ("ObjectName", f"{ep.resource};@{uri}"),
                ("ViaAddr", "127.0.0.1"),
                ("QualifyTimeout", "3.000000"),
                ("CallId", ""),
                ("RegServer", ""),
                ("PruneOnBoot", "no"),
                ("Path", ""),
                ("Endpoint", ep.resource),
                ("ViaPort", "5070"),
                ("AuthenticateQualify", "no"),
                ("Uri", uri),
                ("QualifyFrequency", "0"),
                ("UserAgent", "simulated"),
                ("ExpirationTime", "0"),
                ("OutboundProxy", ""),
                ("Aor", ep.resource),
                ("Status", "NonQualified"),
                ("RoundtripUsec", "N/A"),
            ],
        )
    _list_event(s, "ContactListComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(eps)))])
