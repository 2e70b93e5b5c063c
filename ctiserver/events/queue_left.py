"""Reading a ``queue.left`` event, whoever published it.

The engine's ACD says how long the caller waited as ``waited``; the call tracker (app_queue, from AMI) as
``wait_seconds`` (docs/api.md, "Event types"). Consumers read it here, so none of them misses one publisher.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def queue_wait(data: Mapping[str, Any]) -> float | None:
    """Seconds the caller waited in the queue, or None when the event does not say (e.g. an ACD overflow)."""
    wait = data.get("wait_seconds")
    if wait is None:
        wait = data.get("waited")
    return None if wait is None else float(wait)
