"""Calls in progress an earlier run checkpointed, waiting for their channels (sans-I/O).

While calls go on, ``CallService`` saves each changed call's checkpoint every few seconds (table
``live_calls``, with ``seen``: the last time that run knew them alive); a call's end deletes its checkpoint.
The next run loads what is left before it follows the PBX. A channel it meets that belongs to a checkpointed
call (first sight through an event or the resync's ``CoreShowChannels``) brings the whole call back —
started, IVR path, attached data, queue stays, who answered — instead of adopting it as a new call. At the
first resync, checkpointed legs the PBX no longer has end at their ``seen`` (not at the restart: a caller who
hung up while no daemon ran did not wait until it came back), and so do the calls none of whose channels is
left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ctiserver.calls.model import Call
from ctiserver.calls.restore import call_from_checkpoint
from ctiserver.logs import get_logger

log = get_logger(__name__)


class Checkpoints:
    def __init__(self) -> None:
        self._calls: dict[str, tuple[Mapping[str, Any], float]] = {}  # call id → (checkpoint, seen)
        self._by_leg: dict[str, str] = {}  # uniqueid of a leg → call id

    def __bool__(self) -> bool:
        return bool(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def load(self, rows: Iterable[tuple[Mapping[str, Any], float]]) -> None:
        for snap, seen in rows:
            try:
                call_id = str(snap["call_id"])
                legs = [str(leg["uniqueid"]) for leg in snap.get("legs") or []]
            except (KeyError, TypeError, AttributeError):
                log.warning("a call checkpoint without call id or legs skipped")
                continue
            self._calls[call_id] = (snap, float(seen))
            for uid in legs:
                self._by_leg[uid] = call_id

    def take(self, *keys: str) -> tuple[Call, float, dict[str, Any]] | None:
        """The call one of ``keys`` (a leg's uniqueid, a linkedid) belongs to, rebuilt, its ``seen`` and its legs
        that had hung up while waiting for their CEL record (``calls/hangups.py``: uniqueid → [at, cause,
        cause_txt]); forgotten here. None if no checkpoint holds it (or it cannot be read: logged, the call is
        adopted)."""
        for key in keys:
            call_id = self._by_leg.get(key, key)
            found = self._calls.pop(call_id, None)
            if found is None:
                continue
            snap, seen = found
            for leg in snap.get("legs") or []:
                self._by_leg.pop(str(leg["uniqueid"]), None)
            try:
                hung_up = {str(k): list(v) for k, v in (snap.get("hung_up") or {}).items()}
                return call_from_checkpoint(snap), seen, hung_up
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("a call checkpoint could not be read", call_id=call_id, error=str(exc))
                return None
        return None

    def keys(self) -> list[str]:
        return list(self._calls)
