"""Wrap-up spans from agent states: one span per call, an extension does not restart it, leaving wrap-up by any
state ends it, states without a call open nothing."""

from __future__ import annotations

from ctiserver.calls.wrapups import WrapUp, WrapUps


def test_spans() -> None:
    w = WrapUps()
    assert w.on_state("a1", "on_call", "c1", 100.0) is None
    assert w.on_state("a1", "wrap_up", "c1", 160.0) is None
    assert w.on_state("a1", "wrap_up", "c1", 170.0) is None  # extended: same span
    assert w.on_state("a2", "wrap_up", "c2", 165.0) is None
    assert w.on_state("a1", "ready", None, 190.0) == WrapUp("a1", "c1", 30.0)
    assert w.on_state("a1", "ready", None, 195.0) is None  # nothing open any more
    # a wrap-up for the next call while one is open (a missed ready): the open one ends there
    assert w.on_state("a2", "wrap_up", "c3", 200.0) == WrapUp("a2", "c2", 35.0)
    assert w.on_state("a2", "not_ready", None, 203.0) == WrapUp("a2", "c3", 3.0)
    assert w.on_state("a3", "wrap_up", None, 1.0) is None and len(w) == 0
