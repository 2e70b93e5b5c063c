"""AMI actions of the simulator, part 3: ``ShowDialPlan`` (pbx.c ``manager_show_dialplan``) over the simulator's
dialplan — one ``ListDialplan`` event per priority (Context, Extension, Priority, Application, AppData,
Registrar), then ``ShowDialPlanComplete``; ``Did not find context <name>`` / ``Did not find extension
<exten>@<context>`` as the Error when the asked-for one does not exist (the list has not started then: the
acknowledgement goes out with the first item)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.sim.ami_actions import _list_event, action

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession


@action("ShowDialPlan")
async def _show(s: AmiSession, aid: str | None, msg: dict[str, str], h: list[tuple[str, str]]) -> None:
    want_ctx, want_exten = msg.get("context", ""), msg.get("extension", "")
    plan = s.sim.engine.config.dialplan
    contexts = [c for c in plan if not want_ctx or c == want_ctx]
    if want_ctx and not contexts:
        s.respond(aid, "Error", f"Did not find context {want_ctx}")
        return
    items = [
        (ctx, exten, prio, step)
        for ctx in contexts
        for exten, steps in plan[ctx].items()
        if not want_exten or exten == want_exten
        for prio, step in enumerate(steps, start=1)
    ]
    if want_exten and not items:
        where = f"{want_exten}@{want_ctx}" if want_ctx else f"{want_exten} in any context"
        s.respond(aid, "Error", f"Did not find extension {where}")
        return
    if not items:
        s.respond(aid, "Error", "No dialplan found")
        return
    s.respond(aid, "Success", "DialPlan statistics will follow", [("EventList", "start")])
    for ctx, exten, prio, step in items:
        label = [("ExtensionLabel", step.label)] if step.label else []
        body = [("Context", ctx), ("Extension", exten), *label, ("Priority", str(prio)), ("Application", step.app)]
        _list_event(s, "ListDialplan", aid, [*body, ("AppData", step.data), ("Registrar", "pbx_config")])
    extens = {(c, e) for c, e, *_ in items}
    _list_event(
        s,
        "ShowDialPlanComplete",
        aid,
        [
            ("EventList", "Complete"),
            ("ListItems", str(len(items))),
            ("ListExtensions", str(len(extens))),
            ("ListPriorities", str(len(items))),
            ("ListContexts", str(len({c for c, _ in extens}))),
        ],
    )
