"""Per-call interpreter state shared by the node handlers: current script, sub-script stack, helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ctiserver.clock import Clock
from ctiserver.control import CallControl, PlayResult
from ctiserver.events.bus import Bus
from ctiserver.ivr import expr
from ctiserver.ivr.ports import CallbackSink, ContactLookup, DncSink, HttpFetcher, QueueTarget, SurveySink
from ctiserver.ivr.recorder import StepRecorder
from ctiserver.ivr.script import Script
from ctiserver.ivr.session import IvrEnd, IvrSession


@dataclass(frozen=True, slots=True)
class IvrSettings:
    transfer_context: str = "from-agents"  # extensions (the rendered dialplan's agents context)
    external_context: str = "ctiserver-outbound"  # numbers that leave the PBX (+…, or longer than 6 digits)
    queue_context: str = "queues"  # used when no ACD is present: the call continues at <queue>@queue_context
    var_prefix: str = "__CTI_"  # channel variables carrying attached data (``__`` = inherited by new legs)
    max_steps: int = 500
    vars: Mapping[str, str] = field(default_factory=dict)  # site settings; override the scripts' defaults


@dataclass(slots=True)
class Services:
    contacts: ContactLookup | None = None
    queue: QueueTarget | None = None
    callbacks: CallbackSink | None = None
    dnc: DncSink | None = None  # the dialler's do-not-call lists (``do_not_call`` nodes)
    surveys: SurveySink | None = None
    http: HttpFetcher | None = None
    bus: Bus | None = None
    scripts: Callable[[str], Script | None] | None = None  # sub-scripts by name (current version)
    recorder: StepRecorder | None = None  # default: ``BusRecorder(bus)`` when a bus is given
    settings: IvrSettings = field(default_factory=IvrSettings)


@dataclass(frozen=True, slots=True)
class Exit:
    end: IvrEnd
    target: str | None = None


Next = str | Exit


class Run:
    def __init__(
        self,
        control: CallControl,
        clock: Clock,
        services: Services,
        session: IvrSession,
        script: Script,
        recorder: StepRecorder | None = None,
    ) -> None:
        self.recorder = recorder
        self.control = control
        self.clock = clock
        self.services = services
        self.session = session
        self.script = script
        self.stack: list[tuple[Script, str]] = []
        self.digits: str | None = None
        self.result: str | None = None
        self.node_name = ""  # the node being executed
        self.pending: str | None = None  # a digit that barged in on a ``play``: the next input node gets it

    def take_pending(self) -> str | None:
        digit, self.pending = self.pending, None
        return digit

    @property
    def channel(self) -> str:
        return self.session.call.channel_id

    def note(self, *, digits: str | None = None, result: str | None = None) -> None:
        if digits is not None:
            self.digits = (self.digits or "") + digits
        if result is not None:
            self.result = result

    async def play(self, media: Sequence[str], *, barge_in: bool = False) -> PlayResult:
        if not media:
            return PlayResult(completed=True)
        if any(expr.is_template(m) for m in media):
            ctx = self.context()
            media = [str(expr.render(m, ctx)) for m in media]
        self.session.prompts.extend(media)
        return await self.control.play(
            self.channel, list(media), language=self.script.language, barge_in=barge_in
        )

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), ZoneInfo(self.script.timezone))

    def context(self, **extra: Any) -> dict[str, Any]:
        call = self.session.call
        contact = self.session.contact
        return {
            "caller": {"number": call.caller_number, "name": call.caller_name},
            "did": call.did,
            "contact": contact.as_context() if contact else None,
            "vars": dict(self.session.vars),
            "now": self.now(),
            "language": self.script.language,
            "script": self.script.name,
            **extra,
        }

    async def set_var(self, name: str, value: Any) -> None:
        text = "" if value is None else str(value)
        self.session.vars[name] = text
        self.session.attached[name] = text
        prefix = self.services.settings.var_prefix
        if prefix:
            await self.control.set_variable(self.channel, f"{prefix}{name.upper()}", text)
        if self.recorder is not None:
            await self.recorder.attach(self.session, name, text)
