"""A real PostgreSQL for tests: ``initdb`` in a temp dir owned by ``postgres``, started by ``pg_ctl`` on a
free loopback port (``runuser -u postgres`` when we run as root). Session scoped; ``pg_database`` gives
each test its own fresh database. Other areas: ``from tests.servers.postgres import postgres_server,
pg_database`` (already imported in tests/conftest.py) and mark tests ``@pytest.mark.postgres``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    if exe:
        return Path(exe).parent
    pytest.fail("PostgreSQL is not installed (make system-deps installs the Debian package 'postgresql')")


class PostgresServer:
    """One throw-away cluster. ``stop()``/``start()`` keep the same port and data (for outage tests)."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.base = Path(tempfile.mkdtemp(prefix="ctiserver-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        self.base.chmod(0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> None:
        r = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if r.returncode != 0:
            pytest.fail(f"initdb failed: {r.stderr[-800:]}")

    def start(self, timeout: float = 60) -> None:
        opts = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        r = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "log"),
            "-o",
            opts,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        if r.returncode != 0:
            log = (
                (self.base / "log").read_text(errors="replace")[-1500:]
                if (self.base / "log").exists()
                else ""
            )
            pytest.fail(f"pg_ctl start failed: {r.stderr[-500:]} {log}")
        deadline = time.monotonic() + timeout
        while self.psql("SELECT 1", check=False).returncode != 0:
            if time.monotonic() > deadline:
                pytest.fail("PostgreSQL did not accept connections")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def psql(self, sql: str, db: str = "postgres", check: bool = True) -> subprocess.CompletedProcess[str]:
        r = self._run(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
            timeout=60,
        )
        if check and r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_database(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server: its SQLAlchemy async URL."""
    return postgres_server.url(postgres_server.create_database())
