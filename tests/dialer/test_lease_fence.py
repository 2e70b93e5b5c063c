"""The dialler dials only while the database's lease is confirmed (``store/standby.py``, "Fencing the dialler"):
the running daemon against the simulator, a campaign that has dialled; another process locks the SQLite database
(``BEGIN EXCLUSIVE``: the lease cannot be renewed, as with a database out of reach) — within two thirds of the
lease the campaign is held back with ``lease_unconfirmed`` (live stats, ``/metrics`` over HTTP) — a standby
elsewhere could take over a lease later; the lock released, the next renewal lets it dial again."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.dialer.model import Contact
from ctiserver.dialer.service import DialerService
from tests.api.harness import DIALER_COMPONENTS, Daemon, daemon
from tests.api.test_live_metrics import scrape, wait_for_scrape
from tests.dialer.test_component import _sim_yaml
from tests.dialer.wire import window_around_now

COMPONENTS = (*DIALER_COMPONENTS[:2], "ctiserver.store.standby_component", *DIALER_COMPONENTS[2:])


async def _stats_until(d: Daemon, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The campaign's live stats, read in the daemon's process."""
    runner = d.ctx.require(DialerService).runners["spring"]
    async with asyncio.timeout(20.0):
        while True:
            stats = runner.live_stats()
            if pred(stats):
                return stats
            await asyncio.sleep(0.1)


async def test_no_call_on_a_lease_the_database_did_not_confirm(tmp_path: Path) -> None:
    extra = {
        "simulator": {"enabled": True, "config_file": str(_sim_yaml(tmp_path / "sim.yaml"))},
        "standby": {"lease_seconds": 3.0, "retry_seconds": 0.3},
        "dialer": {
            "lines": {"channel": "PJSIP/{e164}", "amd_wait": 0.5},
            "agents": ["1001"],
            "wrapup": 0.5,
            "campaigns": [{"name": "spring", "mode": "progressive", "windows": window_around_now().model_dump()}],
        },
    }
    async with daemon(tmp_path, components=COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        service = d.ctx.require(DialerService)
        later = Contact("k2", "spring", "+49301000002", "Europe/Berlin", next_at=time.time() + 3600)  # keeps it running
        await service.add_contacts("spring", [Contact("k1", "spring", "+49301000001", "Europe/Berlin"), later])
        await service.start("spring")
        dialled = await _stats_until(d, lambda s: s["counters"].get("outcome_human") == 1)
        assert dialled["waiting"] is None  # the lease confirmed: dialling freely
        await scrape(http, d)  # Prometheus scrapes all along, and the wallboard reads the stats
        stats_url = d.url + "/api/dialer/campaigns/spring/stats"
        async with http.get(stats_url, headers=d.auth("supervisor")) as resp:
            assert resp.status == 200

        lock = sqlite3.connect(tmp_path / "cti.sqlite", timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            # the lease's renewals wait for the lock, then fail. In a thread: the daemon shares this event loop, and
            # a write of its own under way commits only if the loop runs (a blocking wait here held both for the
            # busy timeout's 30 s: "database is locked", CI under load, session 29)
            await asyncio.to_thread(lock.execute, "BEGIN EXCLUSIVE")
            locked = time.monotonic()
            held = await _stats_until(d, lambda s: s["waiting"] is not None)
            assert held["waiting"] == {"code": "lease_unconfirmed", "detail": ""}
            assert time.monotonic() - locked < 3.0  # before a standby, a lease after the last renewal, may start
            reason = 'ctiserver_dialer_held_back{campaign="spring",reason="lease_unconfirmed"}'
            # the tokens in use are checked against their last record while the database does not answer
            assert await wait_for_scrape(http, d, lambda m: m.get(reason) == 1.0)  # /metrics, as Prometheus
            async with http.get(stats_url, headers=d.auth("supervisor")) as resp:
                assert (await resp.json())["waiting"]["code"] == "lease_unconfirmed"
            async with http.get(stats_url, headers=d.auth("admin")) as resp:  # a token not seen before
                assert (resp.status, (await resp.json())["code"]) == (503, "unavailable")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        await _stats_until(d, lambda s: s["waiting"] is None)  # renewed: it dials again
