"""The node kinds of the IVR script language (pydantic models, frozen, unknown fields refused).

Each kind declares which of its fields name other nodes (``edges``), whether it waits for caller input
(``consumes_input``, for the "loop without input" check) and whether it ends the script (``terminal``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MEDIA_SCHEMES = ("sound:", "recording:", "tone:", "digits:", "number:", "characters:")
DIGITS = "0123456789*#"
IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"


def media_list(value: Any) -> Any:
    """``"welcome"`` or ``["a", "sound:b"]`` → ``["sound:welcome"]`` / ``["sound:a", "sound:b"]``."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            return value  # let pydantic report the type error
        out.append(item if item.startswith(MEDIA_SCHEMES) else f"sound:{item}")
    return out


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str] = ""
    link_fields: ClassVar[tuple[str, ...]] = ()
    consumes_input: ClassVar[bool] = False
    terminal: ClassVar[bool] = False
    media_fields: ClassVar[tuple[str, ...]] = ()
    template_fields: ClassVar[tuple[str, ...]] = ()

    label: str | None = None
    outcome: str | None = Field(None, description="sets the call's self-service outcome when executed")

    def edges(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(field path, target node) for every reference to another node."""
        out: list[tuple[tuple[str | int, ...], str]] = []
        for name in self.link_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                out.append(((name,), value))
        return out

    def media(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = []
        for name in self.media_fields:
            out.extend(((name, i), m) for i, m in enumerate(getattr(self, name)))
        return out

    def templates(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = []
        for name in self.template_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                out.append(((name,), value))
            elif isinstance(value, dict):
                out.extend(((name, k), v) for k, v in value.items() if isinstance(v, str))
        return out


class _Media:
    @field_validator(
        "sounds",
        "prompt",
        "invalid_prompt",
        "timeout_prompt",
        "confirm",
        "thanks",
        "announcements",
        "question",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _media(cls, v: Any) -> Any:
        return media_list(v)


class Play(_Media, Node):
    kind: ClassVar[str] = "play"
    link_fields = ("next",)
    media_fields = ("sounds",)
    type: Literal["play"] = "play"
    sounds: list[str] = Field(min_length=1)
    barge_in: bool = False
    next: str


class Menu(_Media, Node):
    kind: ClassVar[str] = "menu"
    link_fields = ("on_fail",)
    consumes_input = True
    media_fields = ("prompt", "invalid_prompt", "timeout_prompt")
    type: Literal["menu"] = "menu"
    prompt: list[str] = Field(min_length=1)
    options: dict[str, str] = Field(min_length=1)
    timeout: float = Field(5.0, gt=0, le=120)
    retries: int = Field(2, ge=0, le=10)
    invalid_prompt: list[str] = []
    timeout_prompt: list[str] = []
    on_fail: str | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): t for k, t in v.items()}
        return v

    def edges(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("options", k), t) for k, t in self.options.items()] + super().edges()


class Collect(_Media, Node):
    kind: ClassVar[str] = "collect"
    link_fields = ("on_fail", "next")
    consumes_input = True
    media_fields = ("prompt", "invalid_prompt")
    type: Literal["collect"] = "collect"
    var: str = Field(pattern=IDENT)
    prompt: list[str] = []
    min_length: int = Field(1, ge=1, le=64)
    max_length: int = Field(20, ge=1, le=64)
    terminator: str = Field("#", pattern=r"^[#*]?$")
    pattern: str | None = None
    timeout: float = Field(5.0, gt=0, le=120)
    inter_digit_timeout: float = Field(3.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10)
    invalid_prompt: list[str] = []
    on_fail: str | None = None
    next: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from None
        return v

    @model_validator(mode="after")
    def _lengths(self) -> Collect:
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        return self


class Lookup(Node):
    kind: ClassVar[str] = "lookup"
    link_fields = ("found", "not_found", "next")
    template_fields = ("key",)
    type: Literal["lookup"] = "lookup"
    key: str = "{{ caller.number }}"
    found: str | None = None
    not_found: str | None = None
    next: str | None = None

    @model_validator(mode="after")
    def _targets(self) -> Lookup:
        if self.next is None and (self.found is None or self.not_found is None):
            raise ValueError("lookup needs 'next', or both 'found' and 'not_found'")
        return self


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    when: str = Field(alias="if", min_length=1)
    goto: str


class Branch(Node):
    kind: ClassVar[str] = "branch"
    type: Literal["branch"] = "branch"
    conditions: list[Condition] = Field(min_length=1)
    else_: str = Field(alias="else")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def edges(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = [
            (("conditions", i, "goto"), c.goto) for i, c in enumerate(self.conditions)
        ]
        return [*out, (("else",), self.else_)]


class Hours(Node):
    kind: ClassVar[str] = "hours"
    link_fields = ("open", "closed", "holiday")
    type: Literal["hours"] = "hours"
    schedule: str
    open: str
    closed: str
    holiday: str | None = None


class SetVars(Node):
    kind: ClassVar[str] = "set"
    link_fields = ("next",)
    template_fields = ("vars",)
    type: Literal["set"] = "set"
    vars: dict[str, str | int | float | bool] = Field(min_length=1)
    next: str

    @field_validator("vars")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.match(IDENT, name):
                raise ValueError(f"variable name {name!r} must be letters, digits and _")
        return v
