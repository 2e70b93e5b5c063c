"""AMI captures of scenarios the real traces do not hold, built (``amigen.py``) from the traces' event shapes and
the order Asterisk 22's C source publishes them in. Each capture carries the CEL ``HANGUP`` record Asterisk
would write for every channel (main/cel.c: ``hangupsource`` as ``ast_set_hangupsource`` left it, ``dialstatus``
by ``save_dialstatus``); ``late=True`` puts it after the channel's AMI ``Hangup``, as trace 13 shows for a third
of its legs (CEL and the manager are separate stasis subscribers)."""

from __future__ import annotations

import json

from tests.calls.amigen import Bridge, Chan, Gen

T0 = 1795371000.0
QUEUE = ("Queue", "support")


def _member(n: str) -> list[tuple[str, str]]:
    return [QUEUE, ("Interface", f"PJSIP/{n}"), ("MemberName", f"Agent {n}")]


def _queue_call_connected(g: Gen) -> tuple[Chan, Chan, Bridge]:
    """Caller → 200 → Queue(support); member 1001 answers; both in a simple_bridge (trace 04's shape)."""
    cuid = "cti-test-1795371000.40"
    c = Chan("PJSIP/caller-00000020", cuid, cuid, "4", "5550100", "Test Caller", "from-external", "200")
    g.newchannel(c)
    g.newexten(c, "NoOp", "DID 200 -> queue support")
    g.newexten(c, "Answer", "", prio=2)
    g.newstate(c, "6")
    g.tick(0.5)
    g.newexten(c, "Queue", "support,t,,,300", prio=3)
    g.q("QueueCallerJoin", c, [QUEUE, ("Position", "1"), ("Count", "1")])
    a = Chan("PJSIP/1001-00000021", "cti-test-1795371000.41", cuid, "0", "1001", "Agent 1001", "from-agents")
    g.newchannel(a)
    a.exten, a.connum, a.conname = "200", "5550100", "Test Caller"
    g.newstate(a, "5")
    g.q("AgentCalled", c, _member("1001"), a)
    g.dial("DialBegin", c, a, dialstring="PJSIP/1001")
    g.dial("DialState", c, a, "RINGING")
    g.tick(0.002)
    b1 = _agent_answers(g, c, a, "1001", "0", "b1111111-0000-4000-8000-000000000001", ("1001", "Agent 1001"))
    return c, a, b1


def _agent_answers(
    g: Gen, c: Chan, a: Chan, member: str, waited: str, bridge: str, connected: tuple[str, str] | None = None
) -> Bridge:
    """The member's phone answers the queue's call: app_dial's ``DialEnd`` (then the caller's connected line, if
    given), the caller leaves the queue, ``AgentConnect``, and both enter a new bridge (agent first)."""
    g.newstate(a, "6")
    g.dial("DialEnd", c, a, "ANSWER")
    if connected is not None:
        c.connum, c.conname = connected
    g.q("QueueCallerLeave", c, [QUEUE, ("Position", "1"), ("Count", "0")])
    g.q("AgentConnect", c, [*_member(member), ("HoldTime", waited), ("RingTime", waited)], a)
    b = Bridge(bridge)
    g.bridge_create(b)
    g.bridge_enter(b, a)
    g.bridge_enter(b, c)
    return b


def _consult_1002(g: Gen, c: Chan, a: Chan, b1: Bridge) -> tuple[Chan, Chan, Chan, Bridge, Bridge]:
    """AMI Atxfer of the agent to 1002@from-agents (bridge_basic.c: a Local pair; the transferer moves into the
    consultation bridge); 1002 answers."""
    link = c.linkedid
    g.response("08-2", "Atxfer successfully queued")
    g.ev("Hold", "call,all", g.cb(a))
    l1 = Chan("Local/1002@from-agents-00000003;1", "cti-test-1795371002.42", link, "0", "1001", "Agent 1001")
    l2 = Chan("Local/1002@from-agents-00000003;2", "cti-test-1795371002.43", link, "4", "1001", "Agent 1001")
    for x in (l1, l2):
        x.context, x.exten = "from-agents", "1002"
    g.newchannel(l1)
    g.newchannel(l2)
    b2 = Bridge("b2222222-0000-4000-8000-000000000002")
    g.bridge_create(b2)
    g.bridge_enter(b2, l1)
    g.bridge_leave(b1, a)
    g.bridge_enter(b2, a)
    g.newexten(l2, "Dial", "PJSIP/1002,30", prio=2)
    t = Chan("PJSIP/1002-00000022", "cti-test-1795371002.44", link, "0", "1002", "Agent 1002", "from-agents", "1002")
    g.newchannel(t)
    g.dial("DialBegin", l2, t, dialstring="PJSIP/1002")
    g.newstate(t, "5")
    g.newstate(l1, "5")
    g.tick(1.0)
    g.newstate(t, "6")
    g.dial("DialEnd", l2, t, "ANSWER")
    g.newstate(l2, "6")
    g.newstate(l1, "6")
    b3 = Bridge("b3333333-0000-4000-8000-000000000003")
    g.bridge_create(b3)
    g.bridge_enter(b3, t)
    g.bridge_enter(b3, l2)
    g.tick(3.0)
    return l1, l2, t, b2, b3


def _atxfer_event(g: Gen, a: Chan, c: Chan, l1: Chan, b1: Bridge, b2: Bridge, dest_type: str) -> None:
    g.ev(
        "AttendedTransfer",
        "call,all",
        [
            ("Result", "Success"),
            *g.cb(a, "OrigTransferer"),
            *g.bb(b1, "Orig"),
            *g.cb(a, "SecondTransferer"),
            *g.bb(b2, "Second"),
            *g.cb(c, "Transferee"),
            *g.cb(l1, "TransferTarget"),
            ("IsExternal", "No"),
            ("DestType", dest_type),
            ("DestBridgeUniqueid", b1.uid),
        ],
    )


def attended_transfer(late: bool) -> bytes:
    """Queue call answered by 1001, attended transfer to 1002 completed by the transferer's BYE
    (complete_enter: bridge merge, AttendedTransfer DestType Bridge, AgentComplete transfer), the Local pair
    swap-optimised away (the caller moves into 1002's Dial bridge), caller BYE."""
    g = Gen(T0)
    c, a, b1 = _queue_call_connected(g)
    g.tick(1.5)
    l1, l2, t, b2, b3 = _consult_1002(g, c, a, b1)
    g.hanguprequest(a, 16)  # 1001 BYE: hangupsource 1001 on itself and on its two-party peer ;1 (bridge b2)
    g.bridge_leave(b2, l1)
    g.bridge_enter(b1, l1)
    g.bridge_leave(b2, a)
    _atxfer_event(g, a, c, l1, b1, b2, "Bridge")
    g.q("AgentComplete", c, [*_member("1001"), ("HoldTime", "0"), ("TalkTime", "6"), ("Reason", "transfer")], a)
    g.end(a, 16, a.name, "", late=False)
    g.bridge_destroy(b2)
    g.bridge_leave(b1, c)
    g.bridge_enter(b3, c, swap=l2)
    g.bridge_leave(b3, l2)
    g.bridge_leave(b1, l1)
    g.bridge_destroy(b1)
    g.hanguprequest(l2, 16)  # core_unreal queues the hang-up of ;2: no source
    g.end(l1, 16, a.name, "", late)
    g.end(l2, 16, "", "ANSWER", late)
    g.tick(4.0)
    g.hanguprequest(c, 16)  # caller BYE: hangupsource caller on itself and on its peer 1002 (bridge b3)
    g.bridge_leave(b3, c)
    g.bridge_leave(b3, t)
    g.bridge_destroy(b3)
    g.end(t, 16, c.name, "", late)
    g.end(c, 16, c.name, "ANSWER", late)
    return g.capture()


def threeway(late: bool) -> bytes:
    """The same consultation, then the transferer's *3 (bridge_basic.c threeway_enter: bridge merge, nobody
    kicked; AttendedTransfer DestType Threeway, which app_queue ignores); the agent BYE later ends the queue
    call as COMPLETEAGENT; caller BYE."""
    g = Gen(T0)
    c, a, b1 = _queue_call_connected(g)
    g.tick(1.5)
    l1, l2, t, b2, b3 = _consult_1002(g, c, a, b1)
    g.bridge_leave(b2, l1)
    g.bridge_enter(b1, l1)
    g.bridge_leave(b2, a)
    g.bridge_enter(b1, a)
    _atxfer_event(g, a, c, l1, b1, b2, "Threeway")
    g.bridge_destroy(b2)
    g.tick(3.0)
    g.hanguprequest(a, 16)  # three in b1: no peer
    g.q("AgentComplete", c, [*_member("1001"), ("HoldTime", "0"), ("TalkTime", "9"), ("Reason", "agent")], a)
    g.bridge_leave(b1, a)
    g.end(a, 16, a.name, "", late)
    g.tick(2.0)
    g.hanguprequest(c, 16)  # caller and ;1 left in b1: ;1 is the peer
    for x, b in ((c, b1), (l1, b1), (l2, b3), (t, b3)):
        g.bridge_leave(b, x)
    g.bridge_destroy(b1)
    g.bridge_destroy(b3)
    for x, source, dialstatus in ((l1, c.name, ""), (l2, "", "ANSWER"), (t, "", ""), (c, c.name, "ANSWER")):
        g.end(x, 16, source, dialstatus, late)
    return g.capture()


def ringall(mode: str, late: bool) -> bytes:
    """Queue ``support`` (ringall) rings 1001 and 1002 (app_queue ring_one). ``answer2``: 1002 answers while
    1001 rings (DialEnd ANSWER, then CANCEL twice for 1001, cause 26); ``busy1``: 1001 answers 486 first
    (HangupRequest cause 17 from chan_pjsip, DialEnd BUSY), 1002 answers; ``abandon``: the caller hangs up while
    both ring (DialEnd CANCEL twice per member, QueueCallerAbandon). The caller hangs up at the end."""
    g = Gen(T0)
    link = "cti-test-1795371000.50"
    c = Chan("PJSIP/caller-00000030", link, link, "4", "5550100", "Test Caller", "from-external", "200")
    g.newchannel(c)
    g.newstate(c, "6")
    g.tick(0.5)
    g.newexten(c, "Queue", "support,t,,,300", prio=3)
    g.q("QueueCallerJoin", c, [QUEUE, ("Position", "1"), ("Count", "1")])
    agents = []
    for i, n in enumerate(("1001", "1002")):
        a = Chan(
            f"PJSIP/{n}-0000003{i + 1}", f"cti-test-1795371000.5{i + 1}", link, "0", n, f"Agent {n}", "from-agents"
        )
        g.newchannel(a)
        a.exten, a.connum, a.conname = "200", "5550100", "Test Caller"
        g.newstate(a, "5")
        g.q("AgentCalled", c, _member(n), a)
        g.dial("DialBegin", c, a, dialstring=f"PJSIP/{n}")
        agents.append(a)
    a1, a2 = agents
    g.tick(2.0)
    if mode == "busy1":
        g.hanguprequest(a1, 17)
        g.dial("DialEnd", c, a1, "BUSY")
        g.q("AgentRingNoAnswer", c, [*_member("1001"), ("RingTime", "2000")], a1)
        g.end(a1, 17, a1.name, "", late=False, txt="User busy")
        g.tick(1.0)
    if mode == "abandon":
        g.hanguprequest(c, None)  # BYE while queued: no Cause (trace 05)
        for a in agents:
            g.dial("DialEnd", c, a, "CANCEL")
        for a in agents:
            g.dial("DialEnd", c, a, "CANCEL")
            g.end(a, 0, "", "", late, txt="Unknown")
        g.q("QueueCallerAbandon", c, [QUEUE, ("Position", "1"), ("OriginalPosition", "1"), ("HoldTime", "2")])
        g.q("QueueCallerLeave", c, [QUEUE, ("Position", "1"), ("Count", "0")])
        g.end(c, 0, c.name, "CANCEL", late=False, txt="Unknown")
        return g.capture()
    g.newstate(a2, "6")
    g.dial("DialEnd", c, a2, "ANSWER")
    if mode == "answer2":
        g.dial("DialEnd", c, a1, "CANCEL")
    g.q("QueueCallerLeave", c, [QUEUE, ("Position", "1"), ("Count", "0")])
    g.q("AgentConnect", c, [*_member("1002"), ("HoldTime", "2"), ("RingTime", "2")], a2)
    if mode == "answer2":
        g.dial("DialEnd", c, a1, "CANCEL")
        g.end(a1, 26, "", "", late=False, txt="Answered elsewhere")
    b = Bridge("b4444444-0000-4000-8000-000000000004")
    g.bridge_create(b)
    g.bridge_enter(b, a2)
    g.bridge_enter(b, c)
    g.tick(4.0)
    g.hanguprequest(c, 16)
    g.bridge_leave(b, c)
    g.bridge_leave(b, a2)
    g.bridge_destroy(b)
    g.q("AgentComplete", c, [*_member("1002"), ("HoldTime", "2"), ("TalkTime", "4"), ("Reason", "caller")], a2)
    g.end(a2, 16, c.name, "", late=False)
    g.end(c, 16, c.name, "ANSWER", late)
    return g.capture()


def redirect(late: bool) -> bytes:
    """AMI Redirect of a queue caller to 601@test (ast_async_goto: SoftHangupRequest, app_queue AgentComplete
    caller; the agent is hung up by app_queue, source ""), where ``Hangup()`` ends it: ``dialplan/builtin``."""
    g = Gen(T0)
    c, a, b1 = _queue_call_connected(g)
    g.tick(2.0)
    g.response("10-2", "Redirect successful")
    g.hanguprequest(c, 2, soft=True)
    g.q("AgentComplete", c, [*_member("1001"), ("HoldTime", "0"), ("TalkTime", "2"), ("Reason", "caller")], a)
    g.bridge_leave(b1, c)
    g.bridge_leave(b1, a)
    g.bridge_destroy(b1)
    g.end(a, 16, "", "", late=False)
    g.newexten(c, "Answer", "", exten="601", context="test", prio=1)
    g.newexten(c, "Playback", "hello-world", prio=2)
    g.tick(3.0)
    g.newexten(c, "Hangup", "", prio=3)
    g.hanguprequest(c, 16, soft=True)
    g.end(c, 16, "dialplan/builtin", "ANSWER", late)
    return g.capture()


def blind_to_same_queue(race: bool) -> bytes:
    """AMI BlindTransfer of the agent to 200@from-agents: the caller joins queue ``support`` again and 1002
    answers. ``race``: app_queue's AgentComplete(transfer) of the first stay (sent from its stasis thread)
    arrives after the second QueueCallerJoin."""
    g = Gen(T0)
    c, a, b1 = _queue_call_connected(g)
    g.tick(2.0)
    g.ev(
        "BlindTransfer",
        "call,all",
        [
            ("Result", "Success"),
            *g.cb(a, "Transferer"),
            *g.cb(c, "Transferee"),
            *g.bb(b1),
            ("IsExternal", "Yes"),
            ("Context", "from-agents"),
            ("Extension", "200"),
        ],
    )
    first = [*_member("1001"), ("HoldTime", "0"), ("TalkTime", "2"), ("Reason", "transfer")]
    if not race:
        g.q("AgentComplete", c, first, a)
    g.bridge_leave(b1, a)
    g.bridge_leave(b1, c)
    g.bridge_destroy(b1)
    g.end(a, 16, "", "", late=False)
    g.tick(0.5)
    g.newexten(c, "Queue", "support,t,,,300", context="from-external", exten="200", prio=3)
    g.q("QueueCallerJoin", c, [QUEUE, ("Position", "1"), ("Count", "1")])
    if race:
        g.q("AgentComplete", c, first, a)
    t = Chan("PJSIP/1002-00000023", "cti-test-1795371003.45", c.linkedid, "0", "1002", "Agent 1002", "from-agents")
    g.newchannel(t)
    g.newstate(t, "5")
    g.q("AgentCalled", c, _member("1002"), t)
    g.dial("DialBegin", c, t, dialstring="PJSIP/1002")
    g.tick(1.0)
    b2 = _agent_answers(g, c, t, "1002", "1", "b7777777-0000-4000-8000-000000000007")
    g.tick(4.0)
    g.hanguprequest(c, 16)
    g.q("AgentComplete", c, [*_member("1002"), ("HoldTime", "1"), ("TalkTime", "4"), ("Reason", "caller")], t)
    g.bridge_leave(b2, c)
    g.bridge_leave(b2, t)
    g.bridge_destroy(b2)
    g.end(t, 16, c.name, "", late=False)
    g.end(c, 16, c.name, "ANSWER", late=False)
    return g.capture()


def originate_local(callee_side: str) -> bytes:
    """AMI Originate Channel=Local/601@test Context=from-agents Exten=1001 (trace 09's header shapes: the
    originated ;1 gets DialBegin/DialEnd with Dest* only). ``callee_side="1"``: ;1 runs from-agents,1001 and
    dials PJSIP/1001 (an agent: it connects the originated call) while ;2 plays 601@test and hangs up.
    ``callee_side="2"``: the dialler's shape — ;2 runs ``<number>@ctx`` and dials the party the call was
    placed to (PJSIP/5551234: outbound), ;1 runs the application."""
    g = Gen(T0)
    g.response("10-1", "Originate successfully queued")
    link = "cti-test-1795371000.60"
    l1 = Chan("Local/601@test-00000004;1", link, link, "0", "5550200", "Outbound", "from-agents", "s")
    l2 = Chan("Local/601@test-00000004;2", "cti-test-1795371000.61", link, "4", "5550200", "Outbound", "test", "601")
    g.newchannel(l1)
    g.newchannel(l2)
    g.dial("DialBegin", None, l1, dialstring="Local/601@test")
    g.newstate(l2, "6")
    g.newstate(l1, "6")
    g.dial("DialEnd", None, l1, "ANSWER")
    dialler, player = (l1, l2) if callee_side == "1" else (l2, l1)
    number = "1001" if callee_side == "1" else "5551234"
    g.newexten(dialler, "Dial", f"PJSIP/{number},30", prio=2)
    a = Chan(f"PJSIP/{number}-00000040", "cti-test-1795371000.62", link, "0", number, "", "from-agents", number)
    g.newchannel(a)
    g.dial("DialBegin", dialler, a, dialstring=f"PJSIP/{number}")
    g.newstate(a, "5")
    g.tick(1.0)
    g.newstate(a, "6")
    g.dial("DialEnd", dialler, a, "ANSWER")
    b = Bridge("b5555555-0000-4000-8000-000000000005")
    g.bridge_create(b)
    g.bridge_enter(b, a)
    g.bridge_enter(b, dialler)
    g.tick(3.0)
    g.newexten(player, "Hangup", "", prio=4)
    g.hanguprequest(dialler, 16)
    g.end(player, 16, "dialplan/builtin", "", late=False)
    g.bridge_leave(b, dialler)
    g.bridge_leave(b, a)
    g.bridge_destroy(b)
    g.end(a, 16, "", "", late=False)
    g.end(dialler, 16, "", "ANSWER", late=False)
    return g.capture()


def ari_originate_without_originator() -> bytes:
    """Trace 02 without ``originator``: ARI originates PJSIP/1001 (own linkedid), then bridges it with a Stasis
    caller; bridge_stasis_push → ast_bridge_channel_update_linkedids: the agent takes the caller's (older)
    linkedid. Caller BYE (its peer, the agent, gets its name), DELETE of the agent."""
    g = Gen(T0)
    link = "cti-test-1795371000.70"
    c = Chan("PJSIP/caller-00000050", link, link, "4", "5550100", "Test Caller", "from-external", "100")
    g.newchannel(c)
    g.newexten(c, "Stasis", "ctiserver,did,100", prio=2)
    g.newstate(c, "6")
    g.tick(1.0)
    own = "cti-test-1795371001.71"
    a = Chan("PJSIP/1001-00000051", own, own, "0", "1001", "Agent 1001", "from-agents")
    g.newchannel(a)
    g.dial("DialBegin", None, a, dialstring="PJSIP/1001")
    g.newstate(a, "5")
    g.tick(1.0)
    g.newstate(a, "6")
    g.dial("DialEnd", None, a, "ANSWER")
    b = Bridge("b6666666-0000-4000-8000-000000000006", "stasis", "simple_bridge", "Stasis", "cti-" + link)
    g.bridge_create(b)
    g.bridge_enter(b, c)
    a.linkedid = link
    g.bridge_enter(b, a)
    g.tick(4.0)
    g.hanguprequest(c, 16)
    g.bridge_leave(b, c)
    g.end(c, 16, c.name, "", late=False)
    g.hanguprequest(a, 32, soft=True)
    g.bridge_leave(b, a)
    g.end(a, 16, c.name, "", late=False)
    g.bridge_destroy(b)
    return g.capture()


def cel_hangups(capture: bytes) -> dict[str, tuple[str, str]]:
    """What the capture's CEL ``HANGUP`` records say, by uniqueid: (hangupsource, dialstatus)."""
    out = {}
    for block in capture.decode().split("\r\n\r\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\r\n") if ": " in line)
        if fields.get("Event") == "CEL" and fields.get("EventName") == "HANGUP":
            extra = json.loads(fields["Extra"])
            out[fields["UniqueID"]] = (extra["hangupsource"], extra["dialstatus"])
    return out


def without_cel(capture: bytes) -> bytes:
    """The same stream from a PBX without ``cel_manager``."""
    blocks = capture.decode().split("\r\n\r\n")
    return "\r\n\r\n".join(b for b in blocks if not b.startswith("Event: CEL\r\n")).encode()
