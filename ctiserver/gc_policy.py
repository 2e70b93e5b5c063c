"""How the daemon sets CPython's cyclic garbage collector (measured with ``bench/screen_pop.py``).

With the default thresholds (700, 10, 10) the daemon under call load ran ~30 collections a second, and every
full (generation 2) collection walked everything alive — agents, sessions, caches — for 100–650 ms, during
which no event was read: the longest pops of the bench were collector pauses. As Instagram did for Django:

* ``gc.freeze()`` once the daemon has started: what is alive then (configuration, agents, compiled
  statements, modules) is moved out of the collector's sight for good. Reference counting still frees it when
  it dies; only a cycle among those objects would never be collected (they live as long as the daemon anyway).
* young collections less often (``threshold0`` 10,000 allocations instead of 700) and full collections only
  after 1,000 middle ones: garbage cycles are still collected, young ones (most of them: finished calls,
  requests) within seconds, old ones within the hour under load.
"""

from __future__ import annotations

import gc

THRESHOLDS = (700, 10, 10_000)


def settle() -> None:
    """Call when the daemon has started (not in tests: frozen objects are never collected)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
