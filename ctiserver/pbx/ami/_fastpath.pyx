# cython: language_level=3, boundscheck=False, wraparound=False
"""ctiserver/pbx/ami/fastpath.py's ``events``, compiled: the same algorithm with the per-line work in C.

Built by ``pip install`` when a C compiler is present (setup.py; optional). Pure Python pays for every line
of every event in the interpreter (a split line, then proving it starts with ``Key: ``); here that loop
is plain C calls, which is what takes the decoder past four times panoramisk's speed (bench/ami_ingest.py).
tests/pbx/test_codec.py checks this module and the Python one against the frame-by-frame parser.
"""

from ctiserver.pbx.ami.fastpath import other_shape, reshape
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.pbx.ami.shape import KINDS

cdef object _new = object.__new__
cdef object _setattr = object.__setattr__


def events(str text, Py_ssize_t limit, list out):
    """See fastpath.events."""
    cdef list found = []
    cdef list frames = text.split("\r\n\r\n")
    cdef Py_ssize_t crlf = len(frames) - 2
    cdef list lines, prefixes, known
    cdef Py_ssize_t n, i
    cdef str frame, line
    cdef dict kinds = KINDS
    cdef bint guessed_wrong = False
    event = AmiEvent
    for frame in frames:
        if len(frame) > limit:
            return False
        lines = frame.split("\r\n")
        n = len(lines)
        known = kinds.get(lines[0])
        shape = known[0] if known else None  # the most recently learnt shape of this first line
        if shape is None or shape.n != n:
            shape = other_shape(lines, known)
            if shape is None:
                return False
        prefixes = shape.prefixes
        if not guessed_wrong:
            for i in range(n):
                line = lines[i]
                if not line.startswith(prefixes[i]):
                    guessed_wrong = True
                    break
        crlf += n
        ev = _new(event)
        _setattr(ev, "_data", lines)
        _setattr(ev, "_shape", shape)
        found.append(ev)
    if text.count("\n") != crlf:
        return False  # a bare LF somewhere: the caller normalises line ends
    if guessed_wrong and not reshape(found):
        return False
    out.extend(found)
    return True
