"""Handlers of the deciding node kinds: branch, hours, set, goto, lookup, http, sub, return."""

from __future__ import annotations

import asyncio

from ctiserver.ivr import expr
from ctiserver.ivr import nodes as n
from ctiserver.ivr import nodes_out as o
from ctiserver.ivr.run_state import Exit, Next, Run
from ctiserver.ivr.schedule import ScheduleState
from ctiserver.ivr.session import IvrEnd
from ctiserver.logs import get_logger

log = get_logger(__name__)


async def branch(run: Run, node: n.Branch) -> Next:
    ctx = run.context()
    for i, cond in enumerate(node.conditions):
        if expr.evaluate(cond.when, ctx):
            run.note(result=f"condition {i + 1}")
            return cond.goto
    run.note(result="else")
    return node.else_


async def hours(run: Run, node: n.Hours) -> Next:
    state = run.script.schedules[node.schedule].state(run.now())
    run.note(result=state.value)
    if state is ScheduleState.OPEN:
        return node.open
    if state is ScheduleState.HOLIDAY and node.holiday is not None:
        return node.holiday
    return node.closed


async def set_vars(run: Run, node: n.SetVars) -> Next:
    for name, value in node.vars.items():
        await run.set_var(name, expr.render(value, run.context()))
    return node.next


async def goto(run: Run, node: o.Goto) -> Next:
    return node.node


async def lookup(run: Run, node: n.Lookup) -> Next:
    key = str(expr.render(node.key, run.context())).strip()
    contact = None
    if key and run.services.contacts is not None:
        contact = await run.services.contacts.lookup(key)
    run.session.contact = contact
    run.note(result=f"found {contact.id}" if contact else "not found")
    target = (node.found if contact else node.not_found) or node.next
    assert target is not None  # guaranteed by the schema
    return target


async def http(run: Run, node: o.Http) -> Next:
    ctx = run.context()
    url = str(expr.render(node.url, ctx))
    body = {k: expr.render(v, ctx) for k, v in node.body.items()} if node.body is not None else None
    if run.services.http is None:
        run.note(result="error: no HTTP client")
        return node.on_error
    try:
        async with asyncio.timeout(node.timeout):
            reply = await run.services.http.fetch(node.method, url, body)
    except TimeoutError:
        run.note(result="error: timeout")
        return node.on_error
    except Exception as exc:  # a backend failure must not end the call: route to on_error
        log.warning("ivr http node failed", node=node.kind, url=url.split("?")[0], error=str(exc))
        run.note(result=f"error: {type(exc).__name__}")
        return node.on_error
    ctx = run.context(reply=reply)
    for name, template in node.map.items():
        await run.set_var(name, expr.render(template, ctx))
    run.note(result="ok")
    return node.next


async def sub(run: Run, node: o.Sub) -> Next:
    found = run.services.scripts(node.script) if run.services.scripts else None
    if found is None:
        run.note(result=f"error: unknown script {node.script!r}")
        return Exit(IvrEnd.ERROR)
    run.stack.append((run.script, node.next))
    run.script = found
    for name, value in found.vars.items():
        run.session.vars.setdefault(name, str(value))
    run.note(result=f"enter {found.name}@{found.version}")
    return found.start


async def return_(run: Run, node: o.Return) -> Next:
    if not run.stack:
        return Exit(IvrEnd.RETURN)
    run.script, target = run.stack.pop()
    run.note(result=f"back to {run.script.name}")
    return target
