"""``AMD()`` (app_amd): answering-machine detection on an answered channel.

Like Asterisk 22, the application analyses the audio of whoever answered and, when it returns, sets the
channel variables ``AMDSTATUS`` (MACHINE, HUMAN, NOTSURE, HANGUP) then ``AMDCAUSE`` (``HUMAN-<silence>-<after
greeting silence>``, ``LONGGREETING-<voice>-<greeting>``, ``INITIALSILENCE-<silence>-<initial silence>``,
``TOOLONG-<total>``; empty on HANGUP) — one AMI ``VarSet`` each, on the channel running ``AMD()``. If the
channel hangs up during the analysis, AMDSTATUS=HANGUP is set before the ``Hangup`` event.

The sim has no audio: who answers is declared per callee endpoint (``set_answerer("+4930…", "machine")``;
default ``human``). On a ``Local/…;1`` channel (the dialer's originate) the callee is the non-Local channel of
the same call (what ``;2`` dialled); on any other channel it is the channel itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

Answerer = Literal["human", "machine", "silence", "unsure"]

# AMD([initialSilence,greeting,afterGreetingSilence,totalAnalysisTime,miniumWordLength,betweenWordsSilence,
#      maximumNumberOfWords,silenceThreshold,maximumWordLength]) — amd.conf defaults, in ms
_DEFAULTS = (2500, 1500, 800, 5000, 100, 50, 2, 256, 5000)
_HUMAN_HELLO_MS = 500  # a person's "hello?" before the silence that tells AMD it was a human


def _params(data: str) -> tuple[int, ...]:
    given = [p.strip() for p in data.split(",")] if data.strip() else []
    out = list(_DEFAULTS)
    for i, value in enumerate(given[: len(out)]):
        if value.isdigit():
            out[i] = int(value)
    return tuple(out)


def verdict(kind: Answerer, data: str = "") -> tuple[str, str, float]:
    """(AMDSTATUS, AMDCAUSE, seconds of analysis) that app_amd reaches for this kind of answerer."""
    initial, greeting, after, total = _params(data)[:4]
    if kind == "human":
        return "HUMAN", f"HUMAN-{after}-{after}", min(total, _HUMAN_HELLO_MS + after) / 1000.0
    if kind == "machine":  # a recorded greeting longer than ``greeting``
        return "MACHINE", f"LONGGREETING-{greeting}-{greeting}", min(total, greeting) / 1000.0
    if kind == "silence":
        return "MACHINE", f"INITIALSILENCE-{initial}-{initial}", min(total, initial) / 1000.0
    return "NOTSURE", f"TOOLONG-{total}", total / 1000.0


class Amd:
    """The ``AMD`` dialplan application of the simulator, and who answers each callee endpoint."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.answerers: dict[str, Answerer] = {}  # endpoint resource (e.g. "+49301000001") → who answers

    def set_answerer(self, resource: str, kind: Answerer) -> None:
        self.answerers[resource] = kind

    def _callee(self, ch: Channel) -> Channel:
        if ch.tech != "Local":
            return ch
        for other in self.engine.channels.values():
            if other.linkedid == ch.linkedid and other.tech != "Local" and not other.hung_up:
                return other
        return ch

    async def run(self, ch: Channel, data: str) -> None:
        engine = self.engine
        callee = self._callee(ch)
        resource = callee.tags.get("dialled") or callee.endpoint.partition("/")[2].split("@", 1)[0]
        status, cause, seconds = verdict(self.answerers.get(resource, "human"), data)

        def gone(_: Channel) -> None:  # no more frames: app_amd reports HANGUP as it returns
            engine.set_var(ch, "AMDSTATUS", "HANGUP")
            engine.set_var(ch, "AMDCAUSE", "")

        remove = engine.on_hangup(ch, gone)
        try:
            await engine.clock.sleep(seconds)
        except asyncio.CancelledError:
            remove()
            raise
        remove()
        if ch.hangup_requested:
            return
        engine.set_var(ch, "AMDSTATUS", status)
        engine.set_var(ch, "AMDCAUSE", cause)
