"""What a running daemon holds of an erased person, forgotten: the recent calls the API serves from memory
(the tracker's) and the call-backs the ACD still owes (out of their queues: nobody is rung for them).

``settle`` first: the calls that ended a moment ago are stored, so that the erasure finds them (the tracker
hands its rows to the writer a little after the call's end). A call still going on with the number is followed
and cleared once it ends (``on_the_line.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctiserver.acd.service import AcdService
from ctiserver.calls.service import CallService
from ctiserver.privacy.erase import Forget
from ctiserver.privacy.on_the_line import OnTheLine, ended_calls_stored


class InMemory:
    def __init__(self, calls: CallService | None, acd: AcdService | None, on_the_line: OnTheLine | None = None) -> None:
        self.calls = calls
        self.acd = acd
        self.on_the_line = on_the_line

    @classmethod
    def of(cls, maybe: Callable[[type[Any]], Any]) -> InMemory:
        """From a daemon's services (``AppContext.maybe``, the API's locator): those it runs."""
        return cls(maybe(CallService), maybe(AcdService), maybe(OnTheLine))

    async def settle(self) -> None:
        if self.calls is not None:
            await ended_calls_stored(self.calls)

    async def forget(self, what: Forget) -> list[str]:
        """Forget it; the ids of the person's calls still going on, cleared when they end."""
        if self.calls is not None:
            self.calls.tracker.forget_calls(what.calls)
        if self.acd is not None:
            await self.acd.cancel_owed(what.numbers, "erasure", what.callbacks)
        return self.on_the_line.follow(what.numbers) if self.on_the_line is not None and what.numbers else []
