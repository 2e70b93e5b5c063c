"""A parsed IVR script (immutable, versioned by content hash) and the schema pass that builds it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ctiserver.ivr import nodes as n
from ctiserver.ivr import nodes_out as o
from ctiserver.ivr.diagnostics import Diagnostic, Severity
from ctiserver.ivr.schedule import Schedule, ScheduleError, parse_schedule
from ctiserver.ivr.source import Located, SourceError, load

KINDS: dict[str, type[n.Node]] = {
    cls.kind: cls
    for cls in (
        n.Play,
        n.Menu,
        n.Collect,
        n.Lookup,
        n.Branch,
        n.Hours,
        n.SetVars,
        o.Queue,
        o.Transfer,
        o.Callback,
        o.DoNotCall,
        o.RecordMessage,
        o.Http,
        o.Survey,
        o.Hangup,
        o.Goto,
        o.Sub,
        o.Return,
    )
}


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    script: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    dids: list[str] = []
    language: str = Field("en", pattern=r"^[a-z]{2}(_[A-Z]{2})?$")
    timezone: str = "UTC"
    start: str | None = None
    schedules: dict[str, Any] = {}
    vars: dict[str, str | int | float | bool] = {}
    nodes: dict[str, dict[str, Any]] = Field(min_length=1)

    @field_validator("dids", mode="before")
    @classmethod
    def _dids(cls, v: Any) -> Any:
        if isinstance(v, (str, int)):
            v = [v]
        return [str(x) if isinstance(x, int) else x for x in v] if isinstance(v, list) else v


@dataclass(frozen=True, eq=False)
class Script:
    name: str
    file: str
    text: str = field(repr=False)
    version: str  # sha256 of the text, 12 hex digits
    dids: tuple[str, ...]
    language: str
    timezone: str
    start: str
    nodes: Mapping[str, n.Node]
    schedules: Mapping[str, Schedule]
    vars: Mapping[str, Any]
    description: str = ""
    located: Located = field(default_factory=lambda: Located(None), repr=False)

    def node(self, name: str) -> n.Node:
        return self.nodes[name]


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _pydantic(
    exc: ValidationError, located: Located, base: tuple[str | int, ...], file: str
) -> list[Diagnostic]:
    out = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        path = (*base, *loc)
        where = ".".join(str(x) for x in path)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            pos = located.pos(path[:-1], key=True)
            msg = f"{where}: required field is missing"
        elif err["type"] == "extra_forbidden":
            pos = located.pos(path, key=True)
            msg = f"{where}: unknown field"
        else:
            pos = located.pos(path)
            msg = f"{where}: {msg}"
        out.append(Diagnostic(file, pos.line, pos.column, msg))
    return out


def parse(text: str, file: str = "<script>") -> tuple[Script | None, list[Diagnostic]]:
    """Schema pass: YAML syntax, fields and types of the header and every node, schedules."""
    try:
        located = load(text)
    except SourceError as exc:
        return None, [Diagnostic(file, exc.pos.line, exc.pos.column, exc.message)]
    if not isinstance(located.data, dict):
        return None, [Diagnostic(file, 1, 1, "a script must be a YAML mapping with 'script' and 'nodes'")]
    try:
        header = Header.model_validate(located.data)
    except ValidationError as exc:
        return None, _pydantic(exc, located, (), file)
    diags: list[Diagnostic] = []
    nodes: dict[str, n.Node] = {}
    for name, raw in header.nodes.items():
        path: tuple[str | int, ...] = ("nodes", name)
        kind = raw.get("type")
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            pos = located.pos((*path, "type")) if "type" in raw else located.pos(path, key=True)
            what = f"unknown node type {kind!r}" if "type" in raw else "missing 'type'"
            diags.append(
                Diagnostic(file, pos.line, pos.column, f"nodes.{name}: {what} (one of: {', '.join(KINDS)})")
            )
            continue
        try:
            nodes[str(name)] = cls.model_validate(raw)
        except ValidationError as exc:
            diags.extend(_pydantic(exc, located, path, file))
    schedules: dict[str, Schedule] = {}
    for sname, raw in header.schedules.items():
        try:
            schedules[sname] = parse_schedule(sname, raw)
        except ScheduleError as exc:
            pos = located.pos(("schedules", sname, *exc.where))
            diags.append(Diagnostic(file, pos.line, pos.column, str(exc)))
    try:
        parse_schedule("timezone", {"timezone": header.timezone})
    except ScheduleError:
        pos = located.pos(("timezone",))
        diags.append(Diagnostic(file, pos.line, pos.column, f"unknown timezone {header.timezone!r}"))
    start = header.start or next(iter(header.nodes))
    if header.start is not None and header.start not in header.nodes:
        pos = located.pos(("start",))
        diags.append(Diagnostic(file, pos.line, pos.column, f"start: unknown node {header.start!r}"))
    if any(d.severity is Severity.ERROR for d in diags):
        return None, diags
    script = Script(
        name=header.script,
        file=file,
        text=text,
        version=version_of(text),
        dids=tuple(header.dids),
        language=header.language,
        timezone=header.timezone,
        start=start,
        nodes=nodes,
        schedules=schedules,
        vars=dict(header.vars),
        description=header.description,
        located=located,
    )
    return script, diags
