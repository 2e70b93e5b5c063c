"""Semantic checks over a parsed script: references, reachability, input-less loops, menus without a way out,
schedules, Jinja2 expressions and sound files."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from ctiserver.ivr import expr
from ctiserver.ivr import nodes as n
from ctiserver.ivr import nodes_out as o
from ctiserver.ivr.diagnostics import Diagnostic, Severity
from ctiserver.ivr.script import Script

SOUND_EXTENSIONS = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".g722", ".g729", ".mp3", ".opus")


def _at(
    script: Script,
    path: tuple[str | int, ...],
    message: str,
    *,
    key: bool = False,
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    pos = script.located.pos(path, key=key)
    return Diagnostic(script.file, pos.line, pos.column, message, severity)


def graph(script: Script) -> dict[str, list[str]]:
    return {name: [t for _, t in node.edges() if t in script.nodes] for name, node in script.nodes.items()}


def check(
    script: Script,
    *,
    sound_dirs: Iterable[str | Path] = (),
    known_scripts: Collection[str] | None = None,
    known_queues: Collection[str] | None = None,
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out += _references(script, known_scripts)
    out += _queues(script, known_queues)
    out += _unreachable(script)
    out += _silent_loops(script)
    out += _menus_without_exit(script)
    out += _expressions(script)
    out += _sounds(script, [Path(d) for d in sound_dirs])
    return sorted(out, key=lambda d: (d.line, d.column))


def _references(script: Script, known_scripts: Collection[str] | None) -> list[Diagnostic]:
    out = []
    for name, node in script.nodes.items():
        base = ("nodes", name)
        for path, target in node.edges():
            if target not in script.nodes:
                out.append(_at(script, (*base, *path), f"nodes.{name}: unknown node {target!r}"))
        if isinstance(node, n.Menu):
            for key in node.options:
                if len(key) != 1 or key not in n.DIGITS:
                    out.append(
                        _at(
                            script,
                            (*base, "options", key),
                            f"nodes.{name}.options: key {key!r} must be one DTMF digit (0-9, *, #)",
                            key=True,
                        )
                    )
        if isinstance(node, n.Hours) and node.schedule not in script.schedules:
            out.append(_at(script, (*base, "schedule"), f"nodes.{name}: unknown schedule {node.schedule!r}"))
        if isinstance(node, o.Sub) and known_scripts is not None and node.script not in known_scripts:
            out.append(_at(script, (*base, "script"), f"nodes.{name}: unknown script {node.script!r}"))
    return out


def _queues(script: Script, known: Collection[str] | None) -> list[Diagnostic]:
    if known is None:
        return []
    return [
        _at(
            script,
            ("nodes", name, "queue"),
            f"nodes.{name}: queue {node.queue!r} is not configured "
            f"(acd.queues: {', '.join(sorted(known)) or 'none'})",
            severity=Severity.WARNING,
        )
        for name, node in script.nodes.items()
        if isinstance(node, o.Queue) and node.queue not in known
    ]


def _reach(edges: dict[str, list[str]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        todo.extend(edges.get(cur, ()))
    return seen


def _unreachable(script: Script) -> list[Diagnostic]:
    reached = _reach(graph(script), [script.start])
    return [
        _at(script, ("nodes", name), f"nodes.{name}: unreachable from start node {script.start!r}", key=True)
        for name in script.nodes
        if name not in reached
    ]


def _sccs(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = edges.get(v, [])
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _silent_loops(script: Script) -> list[Diagnostic]:
    silent = {name for name, node in script.nodes.items() if not node.consumes_input}
    edges = {v: [w for w in ws if w in silent] for v, ws in graph(script).items() if v in silent}
    order = list(script.nodes)
    out = []
    for comp in _sccs(edges):
        if len(comp) == 1 and comp[0] not in edges.get(comp[0], []):
            continue
        members = sorted(comp, key=order.index)
        cycle = " -> ".join([*members, members[0]])
        first = members[0]
        out.append(
            _at(
                script,
                ("nodes", first),
                f"nodes.{first}: loop that consumes no caller input: {cycle}",
                key=True,
            )
        )
    return out


def _menus_without_exit(script: Script) -> list[Diagnostic]:
    edges = graph(script)
    terminal = {name for name, node in script.nodes.items() if node.terminal}
    out = []
    for name, node in script.nodes.items():
        if not isinstance(node, n.Menu):
            continue
        without = {v: [w for w in ws if w != name] for v, ws in edges.items() if v != name}
        targets = [t for t in node.options.values() if t in script.nodes and t != name]
        if not (_reach(without, targets) & terminal):
            out.append(
                _at(
                    script,
                    ("nodes", name),
                    f"nodes.{name}: menu has no way out: no option leads to "
                    "an end (hangup, queue, transfer, return) without coming back",
                    key=True,
                )
            )
    return out


def _expressions(script: Script) -> list[Diagnostic]:
    out = []
    for name, node in script.nodes.items():
        base = ("nodes", name)
        items: list[tuple[tuple[str | int, ...], str, bool]] = [(p, v, False) for p, v in node.templates()]
        items += [(p, m, False) for p, m in node.media()]
        if isinstance(node, n.Branch):
            items += [(("conditions", i, "if"), c.when, True) for i, c in enumerate(node.conditions)]
        for path, source, is_expr in items:
            if not is_expr and not expr.is_template(source):
                continue
            names = expr.NAMES | {"reply"} if isinstance(node, o.Http) and path[0] == "map" else expr.NAMES
            try:
                expr.check(source, template=not is_expr, names=names)
            except expr.ExpressionError as exc:
                out.append(_at(script, (*base, *path), f"nodes.{name}: expression {source!r} {exc}"))
    return out


def sound_exists(media: str, language: str, dirs: list[Path]) -> bool:
    name = media.removeprefix("sound:")
    for d in dirs:
        for sub in (d / language, d):
            if any((sub / (name + ext)).is_file() for ext in SOUND_EXTENSIONS) or (sub / name).is_file():
                return True
    return False


def _sounds(script: Script, dirs: list[Path]) -> list[Diagnostic]:
    if not dirs:
        return []
    out = []
    for name, node in script.nodes.items():
        for path, media in node.media():
            if (
                media.startswith("sound:")
                and not expr.is_template(media)
                and not sound_exists(media, script.language, dirs)
            ):
                out.append(
                    _at(
                        script,
                        ("nodes", name, *path),
                        f"nodes.{name}: sound file {media!r} not found in the sound directories",
                        severity=Severity.WARNING,
                    )
                )
    return out
