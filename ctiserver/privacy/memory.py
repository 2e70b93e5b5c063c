"""What a running daemon holds of an erased person, forgotten: the recent calls the API serves from memory
(the tracker's) and the call-backs the ACD still owes (out of their queues: nobody is rung for them).

``settle`` first: the calls that ended a moment ago are stored, so that the erasure finds them (the tracker
hands its rows to the writer a little after the call's end; a call going on is stored when it ends, with its
numbers — an erasure made while the person is on the line misses that call)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ctiserver.acd.service import AcdService
from ctiserver.calls.service import CallService
from ctiserver.privacy.erase import Forget

SETTLE = 5.0  # s at most: the rows of the calls just ended reach the writer


class InMemory:
    def __init__(self, calls: CallService | None, acd: AcdService | None) -> None:
        self.calls = calls
        self.acd = acd

    @classmethod
    def of(cls, maybe: Callable[[type[Any]], Any]) -> InMemory:
        """From a daemon's services (``AppContext.maybe``, the API's locator): those it runs."""
        return cls(maybe(CallService), maybe(AcdService))

    async def settle(self) -> None:
        if self.calls is not None:
            with contextlib.suppress(TimeoutError):
                await self.calls.flush(SETTLE)

    async def forget(self, what: Forget) -> None:
        if self.calls is not None:
            self.calls.tracker.forget_calls(what.calls)
        if self.acd is not None:
            await self.acd.cancel_owed(what.numbers, "erasure", what.callbacks)
