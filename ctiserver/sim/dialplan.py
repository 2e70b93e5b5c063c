"""A minimal dialplan interpreter: NoOp, Answer, Stasis, Dial, Queue, Playback, Wait, MusicOnHold,
Goto, GotoIf, Hangup, Set, AMD (``ctiserver.sim.amd``), Read and UserEvent (``ctiserver.sim.input_apps``);
``${VAR}`` and ``$[...]`` (``ctiserver.sim.expr``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ctiserver.sim import dial_app, expr, hangup_source, input_apps, media
from ctiserver.sim.amd import Amd
from ctiserver.sim.astdb import AstDb
from ctiserver.sim.config import Step
from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

_VAR = re.compile(r"\$\{([^}]+)\}")
_PATTERN_CHARS = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}


def _pattern(p: str) -> re.Pattern[str]:
    out = []
    i = 0
    body = p[1:]
    while i < len(body):
        c = body[i]
        if c == "[":
            j = body.index("]", i)
            out.append(body[i : j + 1])
            i = j + 1
            continue
        out.append(_PATTERN_CHARS.get(c.upper(), re.escape(c)))
        i += 1
    return re.compile("^" + "".join(out) + "$")


class Goto(Exception):
    def __init__(self, context: str, exten: str, priority: int) -> None:
        self.target = (context, exten, priority)


class HangupApp(Exception):
    pass


class Dialplan:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.apps: dict[str, Callable[[Channel, str], Awaitable[None]]] = {
            "noop": self._noop,
            "answer": self._answer,
            "stasis": self._stasis,
            "dial": self._dial,
            "playback": self._playback,
            "wait": self._wait,
            "hangup": self._hangup,
            "goto": self._goto,
            "gotoif": self._gotoif,
            "musiconhold": self._moh,
        }
        self.amd = Amd(engine)
        self.astdb = AstDb()  # Asterisk's database: the DB() function, the AMI DB* actions (ami_db_actions.py)
        self.apps["amd"] = self.amd.run
        self.apps["read"] = lambda ch, data: input_apps.read(engine, ch, data)
        self.apps["userevent"] = lambda ch, data: input_apps.user_event(engine, ch, data)
        self.apps.setdefault("set", self._set)

    def find(self, context: str, exten: str) -> tuple[Step, ...] | None:
        ctx = self.engine.config.dialplan.get(context, {})
        if exten in ctx:
            return ctx[exten]
        for pat, steps in ctx.items():
            if pat.startswith("_") and _pattern(pat).match(exten):
                return steps
        return None

    def subst(self, ch: Channel, text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name == "EXTEN":
                return ch.exten
            if name == "UNIQUEID":
                return ch.id
            if name == "CALLERID(all)":
                return f'"{ch.caller_name}" <{ch.caller_num}>'
            if name == "CALLERID(num)":
                return ch.caller_num
            if name == "CALLERID(name)":
                return ch.caller_name
            value = ch.var(name)
            return value if value is not None else self.engine.config.globals.get(name, "")

        return expr.expand(_VAR.sub(repl, text))

    def start(self, ch: Channel) -> None:
        ch.tags["task"] = self.engine.spawn(self.run(ch), name=f"sim:dialplan:{ch.name}")

    async def run(self, ch: Channel) -> None:
        engine = self.engine
        try:
            while not ch.hangup_requested:
                steps = self.find(ch.context, ch.exten)
                if steps is None or ch.priority > len(steps):
                    break
                step = steps[ch.priority - 1]
                data = self.subst(ch, step.data)
                engine.newexten(ch, step.app, data)
                app = self.apps.get(step.app.lower())
                try:
                    if step.app.lower() == "queue":
                        await engine.queues.run(ch, data)
                    elif app is not None:
                        await app(ch, data)
                except Goto as g:
                    ch.context, ch.exten, ch.priority = g.target
                    continue
                except HangupApp:
                    break
                if ch.hangup_requested:
                    return
                ch.priority += 1
            if not ch.hangup_requested:
                engine.hangup(ch, ch.tags.get("hangupcause", 16), request=False)
        except asyncio.CancelledError:
            pass

    # -- applications ------------------------------------------------------------------------------
    async def _noop(self, ch: Channel, data: str) -> None:
        return None

    async def _set(self, ch: Channel, data: str) -> None:
        name, sep, value = data.partition("=")
        name = name.strip()
        if name.upper().startswith("DB(") and name.endswith(")"):  # func_db's write: no VarSet
            self.astdb.write_function(name[3:-1], value)
        elif sep and name:
            self.engine.set_var(ch, name, value)

    async def _answer(self, ch: Channel, data: str) -> None:
        self.engine.set_state(ch, ChanState.UP)

    async def _hangup(self, ch: Channel, data: str) -> None:
        hangup_source.set_source(ch, hangup_source.DIALPLAN)  # pbx_builtin_hangup, before anything else
        if data.strip().isdigit():  # Hangup(<cause>); without one, the cause the channel has (e.g. from Dial)
            ch.tags["hangupcause"] = int(data)
        raise HangupApp

    async def _goto(self, ch: Channel, data: str) -> None:
        parts = [p.strip() for p in data.split(",")]
        context, exten = ch.context, ch.exten
        if len(parts) == 3:
            context, exten = parts[0], parts[1]
        elif len(parts) == 2:
            exten = parts[0]
        raise Goto(context, exten, self._priority(context, exten, parts[-1]))

    def _priority(self, context: str, exten: str, priority: str) -> int:
        """A number, or a label of the target extension (``n(label)`` in extensions.conf)."""
        if priority.isdigit():
            return int(priority)
        for number, step in enumerate(self.find(context, exten) or (), start=1):
            if step.label == priority:
                return number
        raise ValueError(f"Goto: no label {priority!r} in {exten}@{context}")

    async def _gotoif(self, ch: Channel, data: str) -> None:
        condition, sep, labels = data.partition("?")
        if not sep:
            raise ValueError(f"GotoIf({data}) needs condition?label")
        on_true, _, on_false = labels.partition(":")
        target = on_true if expr.truth(condition) else on_false
        if target:  # the chosen label omitted: on to the next priority
            await self._goto(ch, target)

    async def _wait(self, ch: Channel, data: str) -> None:
        await self.engine.clock.sleep(float(data or 0))

    async def _playback(self, ch: Channel, data: str) -> None:
        engine = self.engine
        for sound in data.split(",")[0].split("&"):
            engine.cel.emit(
                "STREAM_BEGIN", ch, extra=f'{{"sound":"{sound}","format":"slin","language":"en"}}'
            )
            await engine.clock.sleep(media.sound_seconds(engine, sound))
            engine.cel.emit("STREAM_END", ch)

    async def _moh(self, ch: Channel, data: str) -> None:
        klass, _, duration = data.partition(",")
        media.moh_start(self.engine, ch, klass or "default")
        try:
            if duration:
                await self.engine.clock.sleep(float(duration))
            else:
                await ch.done.wait()
        finally:
            if not ch.hangup_requested:
                media.moh_stop(self.engine, ch)

    async def _stasis(self, ch: Channel, data: str) -> None:
        engine = self.engine
        app, *args = data.split(",")
        if app not in engine.hub.connected_apps():
            engine.set_var(ch, "STASISSTATUS", "FAILED")
            return
        engine.set_var(ch, "STASISSTATUS", "")
        ch.tags["dialplan_stasis"] = True  # a redirect reports its new location with Stasis (Simulator.redirect)
        engine.stasis_enter(ch, app, tuple(args))
        try:
            await ch.stasis_left.wait()
        finally:
            ch.tags.pop("dialplan_stasis", None)
        target = ch.tags.pop("continue", None)
        if target is not None and not ch.hangup_requested:
            raise Goto(*target)

    async def _dial(self, ch: Channel, data: str) -> None:
        await dial_app.dial(self.engine, ch, data)
