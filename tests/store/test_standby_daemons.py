"""Two daemons on one database and one PBX (``store/standby.py``), as real ``ctiserver run`` processes against
the simulator: the second one waits as a standby — no AMI login, no API — until the first stops; a graceful
stop hands over within ``retry_seconds``, a killed holder (its process gone) at once; a standby stopped while it
waits exits 0 without having touched the PBX; a holder that finds another one holding the lease stops with
exit code 75."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator

CTISERVER = str(Path(sys.executable).parent / "ctiserver")

pytestmark = pytest.mark.slow


class Proc:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []

    async def line(self, text: str, limit: float = 20.0) -> float:
        """Read until a line holds ``text``; when it came (monotonic)."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(limit):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"exited before {text!r}:\n" + "".join(self.out))
                self.out.append(raw.decode(errors="replace"))
                if text in self.out[-1]:
                    return time.monotonic()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.out)

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        async with asyncio.timeout(20.0):
            rest, _ = await self.proc.communicate()
        self.out.append(rest.decode(errors="replace"))
        assert self.proc.returncode is not None
        return self.proc.returncode


async def _start(config: Path, tmp: Path) -> Proc:
    env = {**os.environ, "CTISERVER_CONFIG": str(config)}
    proc = await asyncio.create_subprocess_exec(
        CTISERVER, "run", cwd=tmp, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    return Proc(proc)


async def test_one_daemon_per_database_the_other_waits_and_takes_over(tmp_path: Path) -> None:
    procs: list[Proc] = []
    async with Simulator(SimConfig()) as sim:
        c = sim.config
        config = tmp_path / "ctiserver.yaml"
        config.write_text(
            f"pbx:\n  ami: {{host: {c.host}, port: {sim.ami_port}, username: {c.ami_user}, secret: {c.ami_secret}}}\n"
            f"  ari: {{url: '{sim.ari_url}', username: {c.ari_user}, password: {c.ari_password}}}\n"
            f"database: {{url: 'sqlite+aiosqlite:///{tmp_path}/cti.sqlite', spool_dir: '{tmp_path}/spool'}}\n"
            "api: {port: 0}\n"
            "standby: {lease_seconds: 3, retry_seconds: 0.3}\n",
            encoding="utf-8",
        )
        try:
            first = await _start(config, tmp_path)
            procs.append(first)
            await first.line("ctiserver started")
            assert len(sim.ami.sessions) == 1
            second = await _start(config, tmp_path)
            procs.append(second)
            await second.line("standby: another daemon runs on this database")
            await asyncio.sleep(2.0)  # lease_seconds / 3 renewals of the first: the second keeps waiting
            assert len(sim.ami.sessions) == 1 and not second.said("ami link up") and not second.said("API listening")

            stopped = time.monotonic()
            assert await first.stop() == 0 and first.said("ctiserver stopping")
            took_over = await second.line("standby taking over")
            await second.line("ctiserver started")
            assert took_over - stopped < 2.0  # released on the graceful stop: within a retry, not the lease's 3 s
            assert len(sim.ami.sessions) == 1  # the second's link; the first's is gone

            third = await _start(config, tmp_path)
            procs.append(third)
            await third.line("standby: another daemon runs on this database")
            killed = time.monotonic()
            second.proc.kill()  # no release: its process is gone, this host's standby takes it at once
            await second.proc.wait()
            took_over = await third.line("standby taking over")
            await third.line("ctiserver started")
            assert took_over - killed < 2.0

            fourth = await _start(config, tmp_path)
            procs.append(fourth)
            await fourth.line("standby: another daemon runs on this database")
            assert await fourth.stop() == 0 and fourth.said("stopped while waiting as a standby")
            assert not fourth.said("ami link up")
            # a partition healed: another host took the lease while the third could not renew — it stands down
            # with 75 (the supervisor starts it again, as a standby)
            with sqlite3.connect(tmp_path / "cti.sqlite") as db:
                db.execute("UPDATE leases SET owner = 'elsewhere:1:abcd', expires = ?", (time.time() + 60,))
            async with asyncio.timeout(10.0):
                await third.proc.wait()
            rest = await third.proc.stdout.read() if third.proc.stdout else b""
            third.out.append(rest.decode(errors="replace"))
            assert third.proc.returncode == 75 and third.said("another daemon took the database over: standing down")
        finally:
            for p in procs:
                if p.proc.returncode is None:
                    p.proc.kill()
                    await p.proc.wait()
