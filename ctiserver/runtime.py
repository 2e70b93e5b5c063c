"""How the daemon sets the interpreter once it has started (measured with ``bench/screen_pop.py``).

**The GIL switch interval.** Database work runs in threads (aiosqlite's connection thread, the caller-lookup
readers). Each step of such a thread needs the GIL, and with the event loop busy it got it only when the
interpreter's switch interval (5 ms) forced the loop to let go: a transaction of a few steps took tens of ms,
and at 100 calls/s SQLite's single writer connection fell behind (a ``SELECT 1`` waited 0.2–15 s). 0.5 ms lets
those threads in promptly.

**The cyclic garbage collector.**

With the default thresholds (700, 10, 10) the daemon under call load ran ~30 collections a second, and every
full (generation 2) collection walked everything alive — agents, sessions, caches — for 100–650 ms, during
which no event was read: the longest pops of the bench were collector pauses. As Instagram did for Django:

* ``gc.freeze()`` once the daemon has started: what is alive then (configuration, agents, compiled
  statements, modules) is moved out of the collector's sight for good. Reference counting still frees it when
  it dies; only a cycle among those objects would never be collected (they live as long as the daemon anyway).
* full collections only after 10,000 middle ones instead of 10: garbage cycles are still collected, young
  ones (most of them: finished calls, requests) at once, old ones every few hours under load. The young
  generations keep their default sizes: larger ones (10,000 / 2,000 allocations were tried) made each middle
  collection walk 30–40 thousand survivors, 30–100 ms.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL = 0.0005
THRESHOLDS = (700, 10, 10_000)


def settle() -> None:
    """Call when the daemon has started (not in tests: frozen objects are never collected)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
