"""Preview dialling: the agent sees the next contact first (``dialer.preview`` on the bus with the contact's
data), then dials it — or it is dialled for them after ``preview_auto_dial`` seconds — or skips it.

The agent is held from the preview to the end of the attempt, so the live answer always has its agent."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, replace

from ctiserver.dialer.model import Contact
from ctiserver.dialer.runner import CampaignRunner, DialRefused
from ctiserver.events import new_event


@dataclass
class _Shown:
    contact: Contact
    agent: str
    attempt_id: str  # the agent is held for it (the attempt's id once dialled)
    timer: asyncio.Task[None] | None = None


class Previewer:
    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner
        self._shown: dict[str, _Shown] = {}  # contact id → preview on an agent's screen

    async def next(self, agent: str) -> Contact | None:
        """Hold ``agent`` and show them the next due contact (None: nothing due now)."""
        r = self.runner
        attempt_id = uuid.uuid4().hex
        if await r.desk.reserve(r.settings, 0.0, agent, call_id=attempt_id) is None:
            raise DialRefused(f"agent {agent} is not ready")
        now = r.clock.now()
        for contact in await r.store.due(r.settings.name, now, 20):
            if contact.id in self._shown or not await r._dialable(contact, now):
                continue
            shown = _Shown(contact, agent, attempt_id)
            self._shown[contact.id] = shown
            auto = r.settings.preview_auto_dial
            if auto is not None:
                shown.timer = asyncio.create_task(self._auto(contact.id, agent, auto))
            await r.bus.publish(
                new_event(
                    "dialer.preview",
                    contact.id,
                    {"agent": agent, "auto_dial_in": auto, **contact.pop_data()},
                    now,
                )
            )
            return contact
        await r.desk.release(agent)
        return None

    async def _auto(self, contact_id: str, agent: str, after: float) -> None:
        await self.runner.clock.sleep(after)
        with contextlib.suppress(DialRefused, KeyError):
            await self.dial(contact_id, agent, auto=True)

    def _take(self, contact_id: str, agent: str, auto: bool = False) -> _Shown:
        shown = self._shown.get(contact_id)
        if shown is None or shown.agent != agent:
            raise DialRefused(f"contact {contact_id} is not on agent {agent}'s screen")
        del self._shown[contact_id]
        if shown.timer is not None and not auto:
            shown.timer.cancel()
        return shown

    async def dial(self, contact_id: str, agent: str, auto: bool = False) -> str:
        shown = self._take(contact_id, agent, auto)
        r = self.runner
        fresh = await r.store.get_contact(r.settings.name, contact_id) or shown.contact
        if not await r._dialable(fresh, r.clock.now()):  # DNC may have been added while it was shown
            await r.desk.release(agent)
            raise DialRefused(f"contact {contact_id} may not be dialled now")
        return await r._launch(fresh, agent, reserved=True, attempt_id=shown.attempt_id)

    async def skip(self, contact_id: str, agent: str, retry_in: float = 3600.0) -> None:
        self._take(contact_id, agent)
        r = self.runner
        contact = await r.store.get_contact(r.settings.name, contact_id)
        if contact is not None:
            await r.store.save_contact(replace(contact, next_at=r.clock.now() + retry_in))
        await r.desk.release(agent)
