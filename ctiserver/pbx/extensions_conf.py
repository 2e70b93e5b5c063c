"""``extensions.conf`` read as Asterisk reads it: main/config.c for the file (``[context]`` headers, ``name =>
value`` lines, ``;`` comments with ``\\;`` for a literal semicolon, ``;-- … --;`` block comments) and
pbx/pbx_config.c ``pbx_load_config`` for each ``exten``/``same`` line:

* the extension is cut at the first ``,`` outside ``[...]`` (``pbx_strsep``), ``exten/cid`` splits off the
  caller-ID match;
* the priority is a number, ``n``/``next`` (the last + 1), ``s``/``same`` (the last), ``hint``, or a label of
  the same extension; ``n(label)`` names it, ``+N`` offsets it;
* the application is what precedes the first ``(``, its data what lies between that ``(`` and the **last**
  ``)`` — anything after that ``)`` is dropped; without ``(`` there is no data.

This is what AMI ``ShowDialPlan`` lists back (``Application``, ``AppData`` as stored), so a rendered file can be
compared with what the PBX has loaded (``ctiserver.pbx.dialplan_check``), and the simulator runs the very file
Asterisk would (``ctiserver.sim.config``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HINT = -1
_NOT_CONTEXTS = frozenset({"general", "globals"})
_HEADER = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?")


@dataclass(frozen=True, slots=True)
class Priority:
    number: int  # HINT (-1) for a hint
    app: str
    data: str = ""
    label: str | None = None
    line: int = 0


@dataclass(slots=True)
class ExtensionsConf:
    contexts: dict[str, dict[str, list[Priority]]] = field(default_factory=dict)  # in the file's order
    includes: dict[str, list[str]] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what Asterisk would log and skip ("line N: …")

    def priorities(self, context: str, exten: str) -> list[Priority]:
        """The extension's priorities in number order, without its hint."""
        found = self.contexts.get(context, {}).get(exten, [])
        return sorted((p for p in found if p.number != HINT), key=lambda p: p.number)


def _uncomment(text: str) -> list[tuple[int, str]]:
    """(line number, content) with comments gone, as config.c ``config_text_file_load`` does."""
    out: list[tuple[int, str]] = []
    in_block = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line, kept = raw, []
        while line:
            if in_block:
                end = line.find("--;")
                if end < 0:
                    line = ""
                    break
                line, in_block = line[end + 3 :], False
                continue
            semi = line.find(";")
            if semi < 0:
                kept.append(line)
                break
            if semi > 0 and line[semi - 1] == "\\":  # an escaped semicolon is text: the backslash goes
                kept.append(line[: semi - 1] + ";")
                line = line[semi + 1 :]
                continue
            kept.append(line[:semi])
            if line.startswith(";--", semi):
                line, in_block = line[semi + 3 :], True
                continue
            break
        out.append((number, "".join(kept)))
    return out


def _strsep_outside_brackets(value: str) -> tuple[str, str | None]:
    """``pbx_strsep(&s, ",")``: cut at the first comma outside ``[...]``; a backslash keeps the next character."""
    square, i = 0, 0
    while i < len(value):
        c = value[i]
        if c == "[":
            square += 1
        elif c == "]" and square:
            square -= 1
        elif c == "\\":
            i += 1
        elif c == "," and not square:
            return value[:i], value[i + 1 :]
        i += 1
    return value, None


class _Context:
    def __init__(self, conf: ExtensionsConf, name: str) -> None:
        self.conf, self.name = conf, name
        self.extens = conf.contexts.setdefault(name, {})
        self.last_exten = ""
        self.last_pri = -2

    def warn(self, line: int, message: str) -> None:
        self.conf.warnings.append(f"line {line}: {message}")

    def exten(self, line: int, value: str, *, same: bool) -> None:
        if same:
            if not self.last_exten:
                self.warn(line, f"no previous extension in context {self.name!r} for 'same'")
                return
            exten, rest = self.last_exten, value
        else:
            exten, rest_or_none = _strsep_outside_brackets(value)
            rest = rest_or_none or ""
            self.last_exten = exten = exten.strip()
        exten = exten.split("/", 1)[0]  # exten/cid: the caller-ID match is not part of the name
        pri, _, appl = rest.partition(",")
        self._add(line, exten, pri.strip(), appl)

    def _add(self, line: int, exten: str, pri: str, appl: str) -> None:
        label: str | None = None
        if "(" in pri:
            pri, _, tail = pri.partition("(")
            if ")" not in tail:
                self.warn(line, "label missing trailing ')'")
                return
            label = tail.split(")", 1)[0]
        pri, plus, offset = pri.partition("+")
        number = self._number(line, exten, pri)
        if number is None:
            return
        if plus:
            number += int(offset) if offset.strip().lstrip("-").isdigit() else 0
        app, data = _app_data(appl)
        if data is None:
            self.warn(line, f"no closing parenthesis: {appl.strip()!r}")
            data = appl.split("(", 1)[1]
        self.last_pri = number
        priority = Priority(number, app, data, label, line)
        here = self.extens.setdefault(exten, [])
        if any(p.number == number for p in here):  # Asterisk keeps the first and logs the second
            self.warn(line, f"{exten},{number} in {self.name!r} already exists")
            return
        here.append(priority)

    def _number(self, line: int, exten: str, pri: str) -> int | None:
        if pri == "hint":
            return HINT
        if pri in ("n", "next", "s", "same"):
            if self.last_pri <= -2:
                self.warn(line, f"can't use {pri!r} priority on the first entry")
                return None
            return self.last_pri + 1 if pri in ("n", "next") else self.last_pri
        if re.fullmatch(r"-?\d+", pri):
            if int(pri) < 1:
                self.warn(line, f"invalid priority {pri!r}")
                return None
            return int(pri)
        for p in self.extens.get(exten, []):  # a label of this extension
            if p.label == pri:
                return p.number
        self.warn(line, f"invalid priority/label {pri!r}")
        return None


def _app_data(appl: str) -> tuple[str, str | None]:
    """Application and data as pbx_config stores them (data None: no closing parenthesis)."""
    if "(" not in appl:
        return appl.strip(), ""
    app, _, data = appl.partition("(")
    if "${" in app or "$[" in app:  # a hint such as DAHDI/g0/${GLOBAL(x)}: all of it is the "application"
        return appl.strip(), ""
    end = data.rfind(")")
    return app.strip(), (data[:end] if end >= 0 else None)


def parse(text: str) -> ExtensionsConf:
    conf = ExtensionsConf()
    current: _Context | None = None
    in_globals = False
    for number, line in _uncomment(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # #include / #exec: not followed here
            continue
        header = _HEADER.match(stripped)
        if header:
            name, options = header.group(1).strip(), header.group(2) or ""
            in_globals = name.lower() == "globals"
            is_context = name.lower() not in _NOT_CONTEXTS and "!" not in options  # a template is no context
            current = _Context(conf, name) if is_context else None
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            conf.warnings.append(f"line {number}: no '=' in {stripped!r}")
            continue
        key, value = key.strip(), value.removeprefix(">").strip()
        name = key.lower()
        if in_globals:
            conf.globals[key] = value
        elif current is None:
            continue
        elif name in ("exten", "same"):
            current.exten(number, value, same=name == "same")
        elif name == "include":
            conf.includes.setdefault(current.name, []).append(value)
    return conf
