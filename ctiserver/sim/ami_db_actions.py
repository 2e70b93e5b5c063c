"""AMI actions of the simulator on Asterisk's internal database (main/db.c; ``astdb.AstDb``), over AMI:

* ``DBGetTree`` (``Family``, ``Key`` optional): ``Response: Success`` / ``EventList: start``, one
  ``DBGetTreeResponse`` (``Key: /<family>/<key>``, ``Val``) per entry under the prefix in key order, then
  ``DBGetTreeComplete`` (``ListItems``) — also when nothing matches;
* ``DBGet``: ``DBGetResponse`` (Family, Key, Val) then ``DBGetComplete``, or ``Database entry not found``;
* ``DBPut``: ``Updated database successfully``; ``DBDel``: ``Key deleted successfully`` or ``Database entry not
  found``; a missing Family/Key: ``No family specified.`` / ``No key specified.``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.sim.ami_actions import _list_event, action

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession
    from ctiserver.sim.astdb import AstDb


def _db(s: AmiSession) -> AstDb:
    return s.sim.engine.dialplan.astdb


def _family_key(s: AmiSession, aid: str | None, msg: dict[str, str]) -> tuple[str, str] | None:
    family, key = msg.get("family", ""), msg.get("key", "")
    if not family:
        s.respond(aid, "Error", "No family specified.")
        return None
    if not key:
        s.respond(aid, "Error", "No key specified.")
        return None
    return family, key


@action("DBGetTree")
async def _get_tree(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    found = _db(s).tree(msg.get("family", ""), msg.get("key", ""))
    s.respond(aid, "Success", "Result will follow", [("EventList", "start")])
    for key, value in found:
        tail = [("ActionID", aid)] if aid is not None else []
        s.event([("Event", "DBGetTreeResponse"), ("Key", key), ("Val", value), *tail])
    _list_event(s, "DBGetTreeComplete", aid, [("EventList", "Complete"), ("ListItems", str(len(found)))])


@action("DBGet")
async def _get(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    fk = _family_key(s, aid, msg)
    if fk is None:
        return
    value = _db(s).get(*fk)
    if value is None:
        s.respond(aid, "Error", "Database entry not found")
        return
    s.respond(aid, "Success", "Result will follow", [("EventList", "start")])
    tail = [("ActionID", aid)] if aid is not None else []
    s.event([("Event", "DBGetResponse"), ("Family", fk[0]), ("Key", fk[1]), ("Val", value), *tail])
    _list_event(s, "DBGetComplete", aid, [("EventList", "Complete"), ("ListItems", "1")])


@action("DBPut")
async def _put(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    fk = _family_key(s, aid, msg)
    if fk is not None:
        _db(s).put(*fk, msg.get("val", ""))
        s.respond(aid, "Success", "Updated database successfully")


@action("DBDel")
async def _del(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    fk = _family_key(s, aid, msg)
    if fk is None:
        return
    if _db(s).delete(*fk):
        s.respond(aid, "Success", "Key deleted successfully")
    else:
        s.respond(aid, "Error", "Database entry not found")
