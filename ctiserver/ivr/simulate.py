"""Dry-run a script without a PBX (``ctiserver ivr simulate``).

Scripted DTMF on the in-memory CallControl and a manual clock set to ``--at``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctiserver.clock import ManualClock
from ctiserver.control.fake import HANGUP, FakeControl
from ctiserver.ivr.ports import (
    ContactLookup,
    HttpFetcher,
    MemoryCallbacks,
    MemoryDnc,
    MemorySurveys,
    QueueRequest,
)
from ctiserver.ivr.run_state import IvrSettings, Services
from ctiserver.ivr.runner import Interpreter
from ctiserver.ivr.script import Script
from ctiserver.ivr.session import CallInfo, IvrSession


class RecordingQueue:
    def __init__(self) -> None:
        self.requests: list[QueueRequest] = []

    async def enqueue(self, request: QueueRequest) -> str | None:
        self.requests.append(request)
        return None


class StaticHttp:
    """Answers every ``http`` node with the same JSON (``--http-reply``)."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    async def fetch(self, method: str, url: str, body: Mapping[str, Any] | None) -> Any:
        return self.reply


def parse_dtmf(text: str) -> list[str]:
    """``"2,1234#,,hangup"`` → ``["2", "1234#", "", "!hangup"]`` (an empty item lets that prompt time out)."""
    if not text:
        return []
    return [
        HANGUP if item.strip().lower() in ("hangup", "!hangup", "bye") else item.strip()
        for item in text.split(",")
    ]


@dataclass
class Simulation:
    session: IvrSession
    control: FakeControl
    queue: RecordingQueue
    callbacks: MemoryCallbacks
    surveys: MemorySurveys
    tz: dt.tzinfo
    dnc: MemoryDnc = field(default_factory=MemoryDnc)
    extra: dict[str, Any] = field(default_factory=dict)


async def simulate(
    script: Script,
    *,
    caller: str,
    dtmf: Sequence[str],
    at: dt.datetime,
    contacts: ContactLookup | None = None,
    scripts: Mapping[str, Script] | None = None,
    http: HttpFetcher | None = None,
    settings: IvrSettings | None = None,
) -> Simulation:
    clock = ManualClock(start=at.timestamp())
    control = FakeControl(clock)
    control.add_channel("sim-1", dtmf)
    queue, callbacks, surveys, dnc = RecordingQueue(), MemoryCallbacks(), MemorySurveys(), MemoryDnc()
    known = dict(scripts or {})
    known.setdefault(script.name, script)
    services = Services(
        contacts=contacts,
        queue=queue,
        callbacks=callbacks,
        dnc=dnc,
        surveys=surveys,
        http=http,
        scripts=known.get,
        settings=settings or IvrSettings(),
    )
    did = script.dids[0] if script.dids else ""
    call = CallInfo("sim-1", "sim-1", caller, "", did, script.language)
    session = await Interpreter(control, clock, services).run(script, call)
    return Simulation(session, control, queue, callbacks, surveys, at.tzinfo or dt.UTC, dnc)


def report(sim: Simulation) -> str:
    s = sim.session
    tz = sim.tz
    lines = [
        f"script {s.script} version {s.version}",
        f"caller {s.call.caller_number or '-'} -> DID {s.call.did or '-'} at "
        f"{dt.datetime.fromtimestamp(s.started_at, tz).isoformat(timespec='seconds')}",
        "",
        "path:",
    ]
    for step in s.steps:
        when = dt.datetime.fromtimestamp(step.at, tz).strftime("%H:%M:%S")
        where = step.node if step.script == s.script else f"{step.script}:{step.node}"
        label = f" ({step.label})" if step.label else ""
        digits = f"  digits={step.digits}" if step.digits else ""
        result = f"  -> {step.result}" if step.result else ""
        lines.append(f"  {when}  {where:<24} {step.kind:<14}{label}{digits}{result}")
    lines += ["", "prompts played:"] + [f"  {m}" for m in s.prompts]
    lines += ["", "variables:"] + [f"  {k} = {v}" for k, v in sorted(s.vars.items())]
    if s.contact is not None:
        lines += ["", f"contact: {s.contact.id} {s.contact.name}"]
    for q in sim.queue.requests:
        skills = ", ".join(f"{k}>={v}" for k, v in q.skills.items()) or "-"
        prio = "queue default" if q.priority is None else q.priority
        lines.append(f"queue hand-over: {q.queue} (skills {skills}; priority {prio})")
    for c in sim.callbacks.requests:
        lines.append(f"call-back requested: {c.number} (queue {c.queue or '-'})")
    for number, campaign in sim.dnc.added:
        lines.append(f"do-not-call: {number} on the {campaign or 'global'} list")
    for r in sim.surveys.results:
        lines.append(f"survey {r.survey}: {r.score}/{r.scale}")
    end = s.end.value if s.end else "?"
    lines += ["", f"ends: {end}" + (f" {s.target}" if s.target else ""), f"outcome: {s.outcome or '-'}"]
    return "\n".join(lines) + "\n"
