"""A Mermaid flowchart of a script (``ctiserver ivr graph``)."""

from __future__ import annotations

import re

from ctiserver.ivr import nodes as n
from ctiserver.ivr.script import Script

_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def _id(name: str) -> str:
    return "n_" + _SAFE_ID.sub("_", name)


def _text(value: str) -> str:
    return value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _edge_label(node: n.Node, path: tuple[str | int, ...]) -> str:
    if isinstance(node, n.Menu) and path[0] == "options":
        return f"press {path[1]}"
    if isinstance(node, n.Branch) and path[0] == "conditions":
        return node.conditions[int(path[1])].when
    if path[0] in ("next", "node"):
        return ""
    return str(path[0])


def mermaid(script: Script) -> str:
    lines = ["flowchart TD", f"  %% {script.name} version {script.version}"]
    for name, node in script.nodes.items():
        title = f"{name}<br/>{node.kind}" + (f": {_text(node.label)}" if node.label else "")
        if node.terminal:
            lines.append(f'  {_id(name)}(["{title}"])')
        elif node.consumes_input:
            lines.append(f'  {_id(name)}[/"{title}"/]')
        elif isinstance(node, (n.Branch, n.Hours)):
            lines.append(f'  {_id(name)}{{"{title}"}}')
        else:
            lines.append(f'  {_id(name)}["{title}"]')
    lines.append(f'  start((" ")) --> {_id(script.start)}')
    for name, node in script.nodes.items():
        for path, target in node.edges():
            label = _edge_label(node, path)
            arrow = f' -- "{_text(label)}" --> ' if label else " --> "
            lines.append(f"  {_id(name)}{arrow}{_id(target)}")
    return "\n".join(lines) + "\n"
