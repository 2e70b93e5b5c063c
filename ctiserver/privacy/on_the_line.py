"""A person erased while on the line (a caller who asks the agent to be forgotten): their call going on is not in
the database yet, so the erasure cannot clear it; it would be stored, with its numbers, when it ends. The daemon
that carried out the erasure follows each such call — a leg with one of the number's written forms — and once it
has ended and is stored, clears it as the erasure would have (``anonymise_calls``, its finished recordings'
files) and drops it from the recent calls in memory. Its later facts (a wrap-up that ends after the call) then
find no call, so nothing writes the numbers back. A daemon that stops before the call ends leaves it stored
with its numbers: erase again once it is over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.calls.model import Call
from ctiserver.calls.service import CallService
from ctiserver.logs import get_logger
from ctiserver.privacy.erase import purge_recordings
from ctiserver.recording.meta import RecordingStore
from ctiserver.store.privacy import anonymise_calls

log = get_logger(__name__)

EVERY = 1.0  # s: how often a followed call is looked at
SETTLE = 5.0  # s at most: its rows reach the writer


class OnTheLine:
    def __init__(
        self,
        calls: CallService,
        sessions: async_sessionmaker[AsyncSession],
        recordings: RecordingStore | None = None,
    ) -> None:
        self.calls = calls
        self.sessions = sessions
        self.recordings = recordings
        self.followed: dict[str, asyncio.Task[None]] = {}

    def follow(self, numbers: Collection[str]) -> list[str]:
        """Follow the calls going on with one of these numbers on a leg; their ids."""
        found = [c.call_id for c in self.calls.tracker.calls.values() if _on_leg(c, numbers)]
        for call_id in found:
            if call_id not in self.followed:
                self.followed[call_id] = asyncio.create_task(self._when_over(call_id), name=f"cti:privacy-{call_id}")
        return found

    async def _when_over(self, call_id: str) -> None:
        try:
            await self._clear_at_end(call_id)
        finally:
            self.followed.pop(call_id, None)

    async def _clear_at_end(self, call_id: str) -> None:
        clock = self.calls.tracker.clock
        while call_id in self.calls.tracker.calls:
            await clock.sleep(EVERY)
        await ended_calls_stored(self.calls)  # its end (and everything before it)
        self.calls.tracker.forget_calls([call_id])  # first: the API serves nothing of it once the row is cleared
        try:
            async with self.sessions() as session, session.begin():
                await anonymise_calls(session, [call_id])
            if self.recordings is not None:
                await purge_recordings(self.recordings, [call_id])
        except Exception as exc:  # the database is down: the call keeps its numbers (said in the log)
            log.warning("a call erased while on the line was not cleared", call_id=call_id, error=str(exc)[:200])
            return
        log.info("a call erased while on the line cleared at its end", call_id=call_id)

    async def close(self) -> None:
        for task in list(self.followed.values()):
            task.cancel()
        await asyncio.gather(*self.followed.values(), return_exceptions=True)


async def ended_calls_stored(calls: CallService) -> None:
    """Wait (``SETTLE`` s at most) until the calls that have ended are stored: the tracker hands their rows to the
    writer a little after their end."""
    with contextlib.suppress(TimeoutError):
        await calls.flush(SETTLE)


def _on_leg(call: Call, numbers: Collection[str]) -> bool:
    return any(leg.caller_num in numbers or leg.callee_num in numbers for leg in call.legs.values())
