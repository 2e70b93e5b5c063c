"""The AMI decoder's fast path for a read of ordinary events, in pure Python.

``ctiserver/pbx/ami/_fastpath.pyx`` is the same algorithm compiled with Cython (built by ``pip install`` when
a C compiler is present; ``events`` below is then replaced by the compiled one, see ``codec.py``). Both must
give exactly what the frame-by-frame parser gives; tests/pbx/test_codec.py checks each against it on random
input.
"""

from __future__ import annotations

from operator import le, lt

from ctiserver.pbx.ami.messages import AmiEvent, Message
from ctiserver.pbx.ami.shape import KINDS, Shape, learn_kind


def events(text: str, limit: int, out: list[Message]) -> bool:
    """Fast path for a read of ordinary events (CRLF only, every line ``Key: value``, sane size): each frame
    is split into its lines in one C call and gets the known shape of its first line and line count (see
    shape.py); two ``map``s of plain comparisons over every line of the read then prove each line begins
    with the expected ``Key: ``, so every value is the tail of its line. Returns False, having appended nothing, when
    anything is unusual (a response, a Follows body, a line without ``": "``, a bare LF, blank-line runs, an
    oversized frame): the caller then goes frame by frame, and the result is the same
    (tests/pbx/test_codec.py compares both paths on random input)."""
    events: list[AmiEvent] = []
    append, new, setattr_, event = events.append, object.__new__, object.__setattr__, AmiEvent
    kinds = KINDS.get
    frames = text.split("\r\n\r\n")
    crlf = len(frames) - 2  # CRLFs: 2 per separator, and (lines - 1) per frame
    every_line: list[str] = []
    prefixes: list[str] = []
    uppers: list[str] = []
    for frame in frames:
        if len(frame) > limit:
            return False
        lines = frame.split("\r\n")
        n = len(lines)
        known = kinds(lines[0])
        shape = known[0] if known else None  # the most recently learnt shape of this first line
        if shape is None or shape.n != n:
            shape = other_shape(lines, known)
            if shape is None:
                return False
        crlf += n
        every_line += lines
        prefixes += shape.prefixes
        uppers += shape.uppers
        ev = new(event)
        setattr_(ev, "_data", lines)
        setattr_(ev, "_shape", shape)
        append(ev)
    if text.count("\n") != crlf:
        return False  # a bare LF somewhere: the caller normalises line ends
    # every line starts with its expected "Key: ", i.e. "Key: " <= line < "Key:!" (see shape.Shape.uppers)
    if not (all(map(le, prefixes, every_line)) and all(map(lt, every_line, uppers))):
        # a known first line and line count with other keys: find each frame's own shape
        if not reshape(events):
            return False
    out += events
    return True


def other_shape(lines: list[str], known: list[Shape] | None) -> Shape | None:
    """A known shape of this first line with this line count (proved by the caller), else one learnt now."""
    n = len(lines)
    for shape in known or ():
        if shape.n == n:
            return shape
    return learn_kind(lines)


def reshape(events: list[AmiEvent]) -> bool:
    """Slow half of the fast path: give every event whose lines do not match the guessed shape its own (another
    known shape of the same first line and count, else a new one learnt from its lines)."""
    startswith = str.startswith
    for ev in events:
        lines: list[str] = ev._data  # type: ignore[assignment]
        if all(map(startswith, lines, ev._shape.prefixes)):
            continue
        n = len(lines)
        for shape in KINDS.get(lines[0], ()):
            if shape.n == n and all(map(startswith, lines, shape.prefixes)):
                break
        else:
            found = learn_kind(lines)
            if found is None:
                return False
            shape = found
        object.__setattr__(ev, "_shape", shape)
    return True
