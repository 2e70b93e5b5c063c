"""Sandboxed Jinja2 for ``branch`` conditions and ``{{ ... }}`` value templates.

Static checks reject expressions that do not compile or that touch private/unsafe attributes
(``__class__``, ``mro``, ``func_globals``...); at run time the immutable sandbox enforces the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
)

_UNSAFE = (
    set(UNSAFE_FUNCTION_ATTRIBUTES)
    | set(UNSAFE_METHOD_ATTRIBUTES)
    | set(UNSAFE_GENERATOR_ATTRIBUTES)
    | set(UNSAFE_COROUTINE_ATTRIBUTES)
    | set(UNSAFE_ASYNC_GENERATOR_ATTRIBUTES)
    | {"mro", "format", "format_map"}
)

ENV = ImmutableSandboxedEnvironment(autoescape=False)


class ExpressionError(ValueError):
    pass


def _unsafe_names(tree: nodes.Node) -> list[str]:
    bad: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and (name.startswith("_") or name in _UNSAFE):
            bad.append(name)
    return bad


# what every expression sees (``Run.context``); ``reply`` only in an http node's ``map``
NAMES = frozenset({"caller", "did", "contact", "vars", "now", "language", "script"})


def check(source: str, *, template: bool, names: Collection[str] | None = NAMES) -> None:
    """Raise ``ExpressionError`` if ``source`` does not compile, uses an unsafe attribute or a name that is
    not in ``names`` (a typo would otherwise fail only when a caller gets there)."""
    text = source if template else "{{ " + source + " }}"
    try:
        tree = ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"does not compile: {exc.message}") from None
    bad = _unsafe_names(tree)
    if bad:
        raise ExpressionError(f"uses unsafe attribute {bad[0]!r}")
    if names is not None:
        unknown = sorted(meta.find_undeclared_variables(tree) - set(names))
        if unknown:
            raise ExpressionError(f"uses unknown name {unknown[0]!r} (known: {', '.join(sorted(names))})")
    try:
        if template:
            ENV.from_string(source)
        else:
            ENV.compile_expression(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"does not compile: {exc.message}") from None


@functools.lru_cache(maxsize=2048)
def _expression(source: str) -> Callable[..., Any]:
    return ENV.compile_expression(source)


@functools.lru_cache(maxsize=2048)
def _template(source: str) -> Any:
    return ENV.from_string(source)


def warm(expressions: list[str], templates: list[str]) -> None:
    """Compile ahead of the first call (a script being activated), so no call pays for it."""
    for e in expressions:
        _expression(e)
    for t in templates:
        if is_template(t):
            _template(t)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    return _expression(source)(**context)


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render ``value`` if it is a template string; other values pass through unchanged."""
    if isinstance(value, str) and is_template(value):
        return _template(value).render(**context)
    return value
