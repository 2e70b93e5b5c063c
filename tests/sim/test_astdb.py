"""The simulator's Asterisk database over the wire: the dialplan's ``Set(DB(<family>/<key>)=<value>)`` writes an
entry without a ``VarSet``; the AMI actions ``DBGetTree`` (the family, in key order, with ``/family/key`` keys; an
empty family is an empty list), ``DBGet``, ``DBPut`` and ``DBDel`` answer as main/db.c does."""

from __future__ import annotations

from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get

KEEP = {
    "s": (
        Step(app="Answer"),
        Step(app="Set", data="DB(optout/${UNIQUEID})=spring|c-1|9"),
        Step(app="Set", data="DB(nofamily)=x"),  # refused: no "/"
        Step(app="UserEvent", data="Kept,Id: ${UNIQUEID}"),
        Step(app="Hangup"),
    )
}


async def test_the_dialplan_writes_and_ami_reads_and_deletes() -> None:
    base = SimConfig()
    config = base.model_copy(update={"dialplan": {**base.dialplan, "t-keep": KEEP}})
    async with Simulator(config) as sim:
        sim.agent("2001", answer_after=0.1)
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            for uid in ("b-2", "a-1"):
                await ami.action(
                    "Originate",
                    [
                        ("Channel", "PJSIP/2001"),
                        ("Context", "t-keep"),
                        ("Exten", "s"),
                        ("Priority", "1"),
                        ("Async", "true"),
                        ("ChannelId", uid),
                    ],
                )
                await ami.wait(lambda m, u=uid: get(m, "Event") == "UserEvent" and get(m, "Id") == u, limit=10)
            assert not [m for m in ami.messages if get(m, "Event") == "VarSet" and "DB(" in (get(m, "Variable") or "")]
            empty = await ami.action("DBGetTree", [("Family", "nothing")])
            assert get(empty, "Response") == "Success" and get(empty, "EventList") == "start"
            done = await ami.wait(lambda m: get(m, "Event") == "DBGetTreeComplete", limit=5)
            assert get(done, "ListItems") == "0" and get(done, "EventList") == "Complete"

            start = len(ami.messages)
            await ami.action("DBGetTree", [("Family", "optout")])
            await ami.wait(lambda m: get(m, "Event") == "DBGetTreeComplete", limit=5, start=start)
            rows = [
                (get(m, "Key"), get(m, "Val")) for m in ami.messages[start:] if get(m, "Event") == "DBGetTreeResponse"
            ]
            assert rows == [("/optout/a-1", "spring|c-1|9"), ("/optout/b-2", "spring|c-1|9")]  # in key order

            put = await ami.action("DBPut", [("Family", "optout"), ("Key", "c-3"), ("Val", "x|y|*")])
            assert get(put, "Message") == "Updated database successfully"
            start = len(ami.messages)
            got = await ami.action("DBGet", [("Family", "optout"), ("Key", "c-3")])
            assert get(got, "Response") == "Success"
            item = await ami.wait(lambda m: get(m, "Event") == "DBGetResponse", limit=5, start=start)
            assert (get(item, "Family"), get(item, "Key"), get(item, "Val")) == ("optout", "c-3", "x|y|*")

            deleted = await ami.action("DBDel", [("Family", "optout"), ("Key", "a-1")])
            assert get(deleted, "Message") == "Key deleted successfully"
            again = await ami.action("DBDel", [("Family", "optout"), ("Key", "a-1")])
            assert (get(again, "Response"), get(again, "Message")) == ("Error", "Database entry not found")
            no_key = await ami.action("DBDel", [("Family", "optout")])
            assert get(no_key, "Message") == "No key specified."
        finally:
            await ami.close()
    assert sim.engine.dialplan.astdb.entries == {"/optout/b-2": "spring|c-1|9", "/optout/c-3": "x|y|*"}
