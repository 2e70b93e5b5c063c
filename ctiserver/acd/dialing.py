"""Dialling an agent's device and hearing when it starts ringing.

``CallControl.dial`` only returns on answer. The screen-pop must fire when the agent's device *starts ringing*
(ARI ``Dial`` RINGING / ``ChannelStateChange`` Ringing of the agent leg),
so a control implementation may offer
``dial_with_progress(request, on_ringing)``; the ARI one does (``ctiserver.control.ari_dial``). Without it the
ACD falls back to plain ``dial`` and reports ringing when the leg answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ctiserver.control import CallControl, DialRequest

OnRinging = Callable[[str], Awaitable[None]]  # called with the agent leg's channel id


@runtime_checkable
class ProgressDialer(Protocol):
    async def dial_with_progress(self, request: DialRequest, on_ringing: OnRinging) -> str: ...


async def dial_agent(control: CallControl, request: DialRequest, on_ringing: OnRinging) -> str:
    """Originate the agent leg; ``on_ringing`` runs once when it rings; returns the answered channel id."""
    if isinstance(control, ProgressDialer):
        return await control.dial_with_progress(request, on_ringing)
    channel_id = await control.dial(request)
    await on_ringing(channel_id)
    return channel_id
