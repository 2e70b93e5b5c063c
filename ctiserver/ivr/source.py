"""YAML text → plain data plus the ``line:column`` of every key and value (PyYAML ``compose``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(slots=True)
class Located:
    """``data`` as PyYAML's safe loader builds it; ``values[path]`` / ``keys[path]`` give positions."""

    data: Any
    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)

    def pos(self, path: Sequence[str | int], *, key: bool = False) -> Pos:
        """Position of ``path``'s value (or key); falls back to the nearest enclosing node that exists."""
        p: Path = tuple(path)
        while p:
            found = (self.keys if key else self.values).get(p) or self.values.get(p)
            if found is not None:
                return found
            p = p[:-1]
        return self.values.get((), Pos(1, 1))


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


class SourceError(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def load(text: str) -> Located:
    """Parse one YAML document. Raises ``SourceError`` for syntax errors and duplicate keys."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        located = Located(None)
        located.data = _walk(loader, root, (), located) if root is not None else None
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(mark.line + 1, mark.column + 1) if mark is not None else Pos(1, 1)
        context = f"{exc.context}: " if exc.context else ""
        raise SourceError(pos, f"YAML syntax: {context}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SourceError(Pos(1, 1), f"YAML syntax: {exc}") from None
    finally:
        loader.dispose()


def _walk(loader: Any, node: yaml.Node, path: Path, out: Located) -> Any:
    out.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise SourceError(_pos(key_node), "a mapping key must be a plain value")
            if key in result:
                raise SourceError(_pos(key_node), f"duplicate key {key!r}")
            child = (*path, key if isinstance(key, (str, int)) else str(key))
            out.keys[child] = _pos(key_node)
            result[key] = _walk(loader, value_node, child, out)
            if not isinstance(key, str):  # menus turn digit keys into strings: find them both ways
                alias = (*path, str(key))
                out.keys.setdefault(alias, out.keys[child])
                out.values.setdefault(alias, out.values[child])
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:  # e.g. a date that does not exist (2026-02-30): keep the text, the schema reports it
        return node.value
