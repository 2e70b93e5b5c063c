"""Event ids: unique, 32 hex digits, and not repeated by a forked child (it draws a prefix of its own)."""

from __future__ import annotations

import multiprocessing as mp
import re
from multiprocessing.connection import Connection

from ctiserver.events.envelope import new_event


def _child_ids(conn: Connection) -> None:
    conn.send([new_event("t", "s", {}, 0.0).id for _ in range(3)])


def test_ids_are_unique_hex_and_a_forked_child_draws_its_own() -> None:
    ours = [new_event("t", "s", {}, 0.0).id for _ in range(10_000)]
    assert len(set(ours)) == len(ours) and all(re.fullmatch("[0-9a-f]{32}", i) for i in ours)
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(target=_child_ids, args=(child,))
    proc.start()
    theirs = parent.recv()
    proc.join(10)
    after = [new_event("t", "s", {}, 0.0).id for _ in range(3)]
    assert not set(theirs) & set(after)  # without the reseed the child's ids are the parent's next ones
    assert {i[:16] for i in theirs} != {i[:16] for i in after}
