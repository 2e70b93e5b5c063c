# ruff: noqa: RUF012  (pydantic models: mutable defaults are copied per instance)
"""Node kinds that leave the script or talk to other systems: queue, transfer, callback, do-not-call, record,
http, survey, hangup, goto, sub-scripts."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from ctiserver.ivr.nodes import Node, _Media


class Queue(_Media, Node):
    kind: ClassVar[str] = "queue"
    terminal = True  # the ACD owns the call from here
    media_fields = ("announcements", "prompt")
    type: Literal["queue"] = "queue"
    queue: str = Field(min_length=1)
    skills: dict[str, int] = {}  # required skills with minimum levels (empty: the queue's own)
    priority: int | None = Field(None, ge=0, le=100)  # None: the queue's own
    prompt: list[str] = []
    announcements: list[str] = []


class Transfer(Node):
    kind: ClassVar[str] = "transfer"
    terminal = True
    template_fields = ("to",)
    type: Literal["transfer"] = "transfer"
    to: str = Field(min_length=1)
    context: str | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class Callback(_Media, Node):
    kind: ClassVar[str] = "callback"
    link_fields = ("accepted", "declined")
    consumes_input = True
    media_fields = ("prompt", "confirm")
    template_fields = ("number",)
    type: Literal["callback"] = "callback"
    prompt: list[str] = Field(min_length=1)
    accept_digit: str = Field("1", pattern=r"^[0-9*#]$")
    number: str = "{{ caller.number }}"
    queue: str | None = None
    timeout: float = Field(5.0, gt=0, le=60)
    confirm: list[str] = []
    accepted: str
    declined: str


class DoNotCall(_Media, Node):
    """The caller's number (or ``number``) on a do-not-call list: the opt-out line the dialler's messages name
    (47 CFR 64.1200(b)(3)(ii): a number that connects to the automated opt-out). ``on_error`` when there is no
    number to add (anonymous, malformed) or no such list."""

    kind: ClassVar[str] = "do_not_call"
    link_fields = ("next", "on_error")
    media_fields = ("confirm",)
    template_fields = ("number",)
    type: Literal["do_not_call"] = "do_not_call"
    number: str = "{{ caller.number }}"
    campaign: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")  # None: the global list
    confirm: list[str] = []
    next: str
    on_error: str


class RecordMessage(_Media, Node):
    kind: ClassVar[str] = "record_message"
    link_fields = ("next",)
    consumes_input = True
    media_fields = ("prompt",)
    type: Literal["record_message"] = "record_message"
    prompt: list[str] = []
    beep: bool = True
    max_seconds: float = Field(60.0, gt=0, le=600)
    var: str = Field("message", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    next: str


class Http(Node):
    kind: ClassVar[str] = "http"
    link_fields = ("on_error", "next")
    template_fields = ("url", "body", "map")
    type: Literal["http"] = "http"
    url: str = Field(pattern=r"^(https?://|\{\{)")
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, str | int | float | bool] | None = None
    timeout: float = Field(3.0, gt=0, le=30)
    map: dict[str, str] = {}
    on_error: str
    next: str


class Survey(_Media, Node):
    kind: ClassVar[str] = "survey"
    link_fields = ("next",)
    consumes_input = True
    media_fields = ("question", "invalid_prompt", "thanks")
    type: Literal["survey"] = "survey"
    name: str = "csat"
    question: list[str] = Field(min_length=1)
    scale: int = Field(5, ge=2, le=9)
    timeout: float = Field(5.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=5)
    invalid_prompt: list[str] = []
    thanks: list[str] = []
    next: str


class Hangup(_Media, Node):
    kind: ClassVar[str] = "hangup"
    terminal = True
    media_fields = ("sounds",)
    type: Literal["hangup"] = "hangup"
    sounds: list[str] = []
    cause: Literal["normal", "busy", "congestion", "no_answer"] = "normal"


class Goto(Node):
    kind: ClassVar[str] = "goto"
    link_fields = ("node",)
    type: Literal["goto"] = "goto"
    node: str


class Sub(Node):
    """Run another script (from its start) and come back to ``next`` when it reaches a ``return``."""

    kind: ClassVar[str] = "sub"
    link_fields = ("next",)
    type: Literal["sub"] = "sub"
    script: str = Field(min_length=1)
    next: str


class Return(Node):
    kind: ClassVar[str] = "return"
    terminal = True
    type: Literal["return"] = "return"
