"""``Read()`` (app_read) and ``UserEvent()`` (app_userevent) for the simulator's dialplan.

``Read(variable[,filenames[,maxdigits[,options[,attempts[,timeout]]]]])`` as app_read.c and
``ast_app_getdata_terminator``/``ast_readstring_full`` do it:

* ``READSTATUS`` is set to ``ERROR`` first (one ``VarSet``), then the variable, then ``READSTATUS`` again;
* a channel not up is answered first, unless ``n`` (read on hook) or ``s`` (skip: the variable empty and
  ``READSTATUS=SKIPPED``);
* the prompts (``&``-separated) play one after the other and any digit cuts the one playing short (it is the
  first digit read); after the last prompt the first digit is awaited ``timeout`` s (default: the PBX's response
  timeout, 10 s), the next ones ``timeout`` s each (default: the digit timeout, 5 s); between prompts 50 ms;
* ``#`` ends the input; ``maxdigits`` (1–255, default 255) ends it too; a timeout ends it with what was read
  (``READSTATUS=TIMEOUT``); nothing read → the next of ``attempts`` tries;
* a hang-up ends the application at once (the simulator sets no variable after the channel is gone; Asterisk's
  ``READSTATUS=HANGUP`` would come between the hang-up request and ``Hangup``).

The digits are the channel's ``Received`` DTMF (``Engine.dtmf``; through a bridge and a Local pair they reach
the half running the dialplan as on Asterisk, ``ctiserver.sim.dtmf``).

``UserEvent(eventname[,key:value[,key:value…]])``: the AMI event ``UserEvent`` (class ``user``) with the
channel's snapshot, ``UserEvent: <eventname>`` and one header per ``key:value`` argument, the value stripped of
blanks, arguments without ``:`` left out (app_userevent.c, ``channel_userevent`` in manager_channels.c).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctiserver.sim import media
from ctiserver.sim.model import Channel, ChanState

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

RESPONSE_TIMEOUT = 10.0  # s: pbx.c's rtimeoutms, the wait for the first digit after the last prompt
DIGIT_TIMEOUT = 5.0  # s: pbx.c's dtimeoutms, between digits
BETWEEN_PROMPTS = 0.05  # s: ast_app_getdata_terminator's first-digit wait after a prompt that is not the last
ENDERS = "#"


class _Gone(Exception):
    """The channel hung up while the application ran."""


class _Digits:
    """The channel's received digits, in order, from the moment the application listens."""

    def __init__(self, engine: Engine, ch: Channel) -> None:
        self.engine, self.ch = engine, ch
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        ch.tags.setdefault("dtmf_listeners", []).append(self.queue.put_nowait)

    def close(self) -> None:
        listeners = self.ch.tags.get("dtmf_listeners", [])
        if self.queue.put_nowait in listeners:
            listeners.remove(self.queue.put_nowait)

    async def next(self, seconds: float) -> str | None:
        """The next digit within ``seconds`` (of the simulator's clock), None at the timeout."""
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        others = (asyncio.ensure_future(self.engine.clock.sleep(seconds)), asyncio.ensure_future(self.ch.done.wait()))
        try:
            await asyncio.wait({getter, *others}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in (getter, *others):
                w.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self.ch.hangup_requested or self.ch.hung_up:
            raise _Gone
        return None


async def read(engine: Engine, ch: Channel, data: str) -> None:
    args = [a.strip() for a in data.split(",")] + [""] * 6
    variable, prompts, maxdigits_s, options, attempts_s, timeout_s = args[:6]
    engine.set_var(ch, "READSTATUS", "ERROR")
    if not variable:
        return
    tries = _int(attempts_s, 1)
    tries = tries if tries > 0 else 1
    maxdigits = _int(maxdigits_s, 255)
    maxdigits = maxdigits if 1 <= maxdigits <= 255 else 255
    timeout = _float(timeout_s)
    if ch.state != ChanState.UP:
        if "s" in options:
            engine.set_var(ch, variable, "")
            engine.set_var(ch, "READSTATUS", "SKIPPED")
            return
        if "n" not in options:
            engine.set_state(ch, ChanState.UP)
    digits = _Digits(engine, ch)
    try:
        status = "ERROR"
        while tries:
            value, status = await _getdata(engine, ch, digits, prompts, maxdigits, timeout)
            engine.set_var(ch, variable, value)
            tries = 0 if value else tries - 1
        engine.set_var(ch, "READSTATUS", status)
    except _Gone:
        return
    finally:
        digits.close()


async def _getdata(
    engine: Engine, ch: Channel, digits: _Digits, prompts: str, maxdigits: int, wait: float
) -> tuple[str, str]:
    files = prompts.split("&") if prompts else [""]
    value, status = "", "TIMEOUT"
    for i, name in enumerate(files):
        last = i == len(files) - 1
        first_wait, next_wait = (RESPONSE_TIMEOUT, DIGIT_TIMEOUT) if last else (BETWEEN_PROMPTS, DIGIT_TIMEOUT)
        if last and wait > 0:
            first_wait = next_wait = wait
        digit = await _play(engine, ch, digits, name) if name else None
        value, status = await _collect(digits, digit, maxdigits, first_wait, next_wait)
        if value or status == "OK":
            return value, status
    return value, status


async def _play(engine: Engine, ch: Channel, digits: _Digits, name: str) -> str | None:
    """Plays the prompt; a digit cuts it short and is returned."""
    engine.cel.emit("STREAM_BEGIN", ch, extra=f'{{"sound":"{name}","format":"slin","language":"en"}}')
    try:
        return await digits.next(media.sound_seconds(engine, name))
    finally:
        if not ch.hung_up:
            engine.cel.emit("STREAM_END", ch)


async def _collect(
    digits: _Digits, first: str | None, maxdigits: int, first_wait: float, next_wait: float
) -> tuple[str, str]:
    """ast_readstring_full: (the digits read, READSTATUS)."""
    got = ""
    digit = first if first is not None else await digits.next(first_wait)
    while True:
        if digit is None:
            return got, "TIMEOUT"
        if digit in ENDERS:
            return got, "OK"
        got += digit
        if len(got) >= maxdigits:
            return got, "OK"
        digit = await digits.next(next_wait)


async def user_event(engine: Engine, ch: Channel, data: str) -> None:
    name, *body = data.split(",")
    headers: list[tuple[str, str]] = [("UserEvent", name)]
    for item in body:
        key, sep, value = item.partition(":")
        if sep:
            headers.append((key, value.strip()))
    engine.ami_chan("UserEvent", ch, headers, privilege="user,all")


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
