"""Stop helper tasks without losing the caller's own cancellation.

The obvious ``t.cancel(); with suppress(CancelledError): await t`` is wrong: when the *caller* is cancelled
while it waits for ``t`` to end, its CancelledError arrives at that same ``await`` and is suppressed with the
child's. The caller goes on as if nothing happened; a loop around it (the webhook dispatcher's idle wait) never
ends, and the TaskGroup shutting the daemon down waits for it forever (a CI run hung 120 s that way).
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Future[Any] | None) -> None:
    """Cancel ``tasks`` (``None`` entries are skipped) and wait until all have ended. A cancellation of the caller
    propagates; a task that failed with anything but its cancellation re-raises that error (as ``await t`` did)."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    if not live:
        return
    await asyncio.wait(live)
    for t in live:
        if not t.cancelled() and (exc := t.exception()) is not None:
            raise exc
