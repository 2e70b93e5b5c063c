"""The fast path of the screen-pop: pop on the PBX's own "the agent's device rings" event.

The ACD publishes ``agent.ringing`` after it has persisted the agent's state change; under load that write is
most of the delay. This hook listens to the raw ARI events (``Dial`` with ``dialstatus: RINGING``, or
``ChannelStateChange`` to ``Ringing``) and matches the ringing channel's device (``PJSIP/1001-0000002a`` →
``PJSIP/1001``) to the offer the ACD announced just before dialling (``agent.offered``, with the agent's
device from ``agent.state``). The pop goes out at once; the later ``agent.ringing`` finds it already sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ctiserver.crm.screenpop import ScreenPop
from ctiserver.events.envelope import DomainEvent, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


def ringing_channel(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = event.get("type")
    if kind == "Dial" and event.get("dialstatus") == "RINGING":
        peer = event.get("peer")
        return peer if isinstance(peer, Mapping) else None
    if kind == "ChannelStateChange":
        channel = event.get("channel")
        if isinstance(channel, Mapping) and channel.get("state") == "Ringing":
            return channel
    return None


def device_of(channel_name: str) -> str:
    """``PJSIP/1001-0000002a`` → ``PJSIP/1001``."""
    head, sep, _ = channel_name.rpartition("-")
    return head if sep else channel_name


class RingHook:
    def __init__(self, pop: ScreenPop) -> None:
        self.pop = pop
        self.devices: dict[str, str] = {}  # device → agent id
        self.offers: dict[str, DomainEvent] = {}  # agent id → its pending offer
        self.fast_pops = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_bus(self, event: DomainEvent) -> None:
        """Bus listener (sync): agents' devices and pending offers."""
        data = event.data
        if event.type == "agent.state":
            agent, device = data.get("agent") or event.subject, data.get("device")
            if agent and device:
                self.devices[str(device)] = str(agent)
            if data.get("state") not in ("reserved", "ringing"):
                self.offers.pop(str(agent), None)
        elif event.type == "agent.offered" and data.get("agent"):
            self.offers[str(data["agent"])] = event

    def on_ari(self, event: Mapping[str, Any]) -> None:
        """Raw ARI listener (sync): a ringing agent device pops its pending offer."""
        channel = ringing_channel(event)
        if channel is None:
            return
        agent = self.devices.get(device_of(str(channel.get("name") or "")))
        offer = self.offers.pop(agent, None) if agent else None
        if offer is None:
            return
        trigger = new_event(
            "agent.ringing",
            offer.subject,
            {**offer.data, "channel": channel.get("id")},
            self.pop.crm.clock.now(),
        )
        try:
            if self.pop.pop_now(trigger) is not None:  # the lookup is done: pop within this callback
                self.fast_pops += 1
                return
        except Exception:
            log.exception("fast screen-pop failed", call_id=trigger.subject)
            return
        task = asyncio.get_running_loop().create_task(self._pop(trigger), name="cti:fast-pop")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pop(self, trigger: DomainEvent) -> None:
        try:
            if await self.pop.pop(trigger) is not None:
                self.fast_pops += 1
        except Exception:
            log.exception("fast screen-pop failed", call_id=trigger.subject)
