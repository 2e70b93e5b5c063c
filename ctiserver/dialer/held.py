"""Answered attempts held in ``Stasis(ctiserver,dialer,…)`` by the daemon's ``dialer`` handler.

The ACD connects calls over ARI (bridges), so it can only take an answered attempt that is in our Stasis
application. An attempt whose ``Stasis`` failed (the ARI application was away: the rendered dialplan then holds
it itself, ``ctiserver-dialer-abandon,nostasis``) must not be handed to the ACD: the ACD would ring an agent for a
call it cannot bridge, and wait for a hang-up it cannot see. The runner learns of the answer over AMI (the AMD
result), a moment before the ``StasisStart`` over ARI, so the desk waits briefly for the attempt to be held.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.clock import Clock

STASIS_WAIT = 2.0  # s: answer (AMI) to StasisStart (ARI) takes milliseconds; after 2 s the dialplan plays the message


class HeldCalls:
    def __init__(self, clock: Clock, app_up: Callable[[], bool], poll: float = 0.02) -> None:
        self.clock = clock
        self.app_up = app_up  # the ARI application is connected (Stasis fails without it)
        self.poll = poll
        self._held: dict[str, float] = {}  # channel id → when it entered the application (clock time)

    def hold(self, channel_id: str) -> None:
        self._held.setdefault(channel_id, self.clock.now())

    def release(self, channel_id: str) -> None:
        self._held.pop(channel_id, None)

    def entered(self, channel_id: str) -> float | None:
        """When the call entered ``Stasis`` (the rendered dialplan's next step after ``AMD()``'s verdict), if held."""
        return self._held.get(channel_id)

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self._held

    async def wait(self, channel_id: str, within: float = STASIS_WAIT) -> bool:
        """Whether ``channel_id`` is (or within ``within`` s comes to be) held in our Stasis application;
        False at once while the application is away."""
        deadline = self.clock.monotonic() + within
        while channel_id not in self._held:
            if self.clock.monotonic() >= deadline or not self.app_up():
                return False
            await self.clock.sleep(self.poll)
        return True
