"""A daemon (store + events + crm + api) run as a child process by ``test_crash_spool.py`` and killed with
SIGKILL: it subscribes a webhook, prints ``{"url", "token"}`` on stdout, then publishes events without end.
Its database writes are slowed down (0.3 s per event-log batch) so that events are always handed out before
they are in the database — what the write-ahead spool is for."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ctiserver.api.auth import Role
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import new_event
from ctiserver.events.outbox import WebhookSubscription
from ctiserver.events.sql import SqlEventStore
from ctiserver.events.webhooks import WebhookDispatcher
from tests.api.harness import daemon

SECRET = "crash-test-secret-0123456789"


async def main(tmp: Path, hook_port: int) -> None:
    append = SqlEventStore.append

    async def slow_append(self: SqlEventStore, events: object) -> None:
        await asyncio.sleep(0.3)
        await append(self, events)  # type: ignore[arg-type]

    SqlEventStore.append = slow_append  # type: ignore[method-assign]
    hooks = {"webhooks": {"backoff_base": 0.05, "backoff_max": 0.3, "idle_poll": 0.05}}
    async with daemon(tmp, events=hooks) as d:
        dispatcher = d.ctx.require(WebhookDispatcher)
        await dispatcher.add(WebhookSubscription("hook", f"http://127.0.0.1:{hook_port}/hook", SECRET, ("*",)))
        print("HELLO " + json.dumps({"url": d.url, "token": await d.token(Role.CRM)}), flush=True)
        bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
        i = 0
        while True:
            i += 1
            await bus.publish(new_event("call.created", f"call-{i % 7}", {"i": i}, d.ctx.clock.now()))
            await asyncio.sleep(0.002)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
