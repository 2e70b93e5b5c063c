"""Asterisk's ``$[...]`` dialplan expressions, the part the rendered dialplan uses, and ``GotoIf``'s truth test.

Following ``main/ast_expr2.y``/``ast_expr2.fl``: a quoted string is one token with its quotes removed; ``=``,
``!=``, ``<``, ``>``, ``<=``, ``>=`` compare as numbers when both sides are numbers and as strings otherwise, and
give ``1``/``0``; ``&`` (both non-empty and non-zero: the left one's value, else ``0``) binds tighter than ``|``
(the left one if it is true, else the right one); ``!`` negates; parentheses group. Anything else (``+``, ``:``
regex, ``?:`` …) is not needed by the plans the simulator runs and raises ``ValueError`` (no silent wrong result).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

_INT = re.compile(r"\s*([+-]?\d+)")
_TOKEN = re.compile(r'\s*(?:"([^"]*)"|(!=|<=|>=|[=<>&|!()])|([^\s"=<>&|!()]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot parse expression {text!r} at {pos}")
        quoted, op, word = m.groups()
        out.append(("op", op) if op is not None else ("val", quoted if quoted is not None else word))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def truth(value: str) -> bool:
    """``pbx_checkcondition``: empty is false; text that ``sscanf("%d")`` reads a number from is that number's
    truth (``0x`` is false, ``5 apples`` true); any other text is true (a lone space too)."""
    if not value:
        return False
    number = _INT.match(value)
    return int(number.group(1)) != 0 if number else True


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compare(op: str, left: str, right: str) -> str:
    a, b = _number(left), _number(right)
    result = _OPS[op](a, b) if a is not None and b is not None else _OPS[op](left, right)
    return "1" if result else "0"


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take_op(self, *ops: str) -> str | None:
        tok = self._peek()
        if tok is not None and tok[0] == "op" and tok[1] in ops:
            self.i += 1
            return tok[1]
        return None

    def parse(self) -> str:
        value = self._or()
        if self._peek() is not None:
            raise ValueError(f"unexpected {self._peek()!r} in expression")
        return value

    def _or(self) -> str:
        left = self._and()
        while self._take_op("|"):
            right = self._and()
            left = left if truth(left) else right
        return left

    def _and(self) -> str:
        left = self._cmp()
        while self._take_op("&"):
            right = self._cmp()
            left = left if truth(left) and truth(right) else "0"
        return left

    def _cmp(self) -> str:
        left = self._unary()
        while (op := self._take_op(*_OPS)) is not None:
            left = _compare(op, left, self._unary())
        return left

    def _unary(self) -> str:
        if self._take_op("!"):
            return "0" if truth(self._unary()) else "1"
        if self._take_op("("):
            value = self._or()
            if not self._take_op(")"):
                raise ValueError("missing ')' in expression")
            return value
        tok = self._peek()
        if tok is None or tok[0] != "val":
            # an empty operand (``$[ = "x"]`` after a variable expanded to nothing) is the empty string
            return ""
        self.i += 1
        return tok[1]


def evaluate(text: str) -> str:
    """The value of the expression inside ``$[...]`` (variables already substituted)."""
    return _Parser(_tokens(text)).parse()


def expand(text: str) -> str:
    """Replace every ``$[...]`` in ``text`` (innermost first) by its value."""
    while True:
        start = text.rfind("$[")
        if start < 0:
            return text
        end = text.find("]", start)
        if end < 0:
            raise ValueError(f"unterminated $[ in {text!r}")
        text = text[:start] + evaluate(text[start + 2 : end]) + text[end + 1 :]
