"""Shared test fixtures. Area-specific fixtures live in each area's own conftest.py under tests/<area>/."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_traces() -> Path:
    env = os.environ.get("CTISERVER_TRACES")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "asterisk-traces", Path("/work/shared/asterisk-traces")]
    for c in candidates:
        if (c / "README.md").exists():
            return c
    raise RuntimeError("shared/asterisk-traces not found beside the repository; set CTISERVER_TRACES")


TRACES = _find_traces()
ASTERISK_API = TRACES.parent / "asterisk-api"
SCENARIOS = sorted(p.name for p in TRACES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def traces_dir() -> Path:
    return TRACES


@pytest.fixture
def unused_port() -> int:
    return free_port()


# real servers started by fixtures (see tests/servers/): importing them here makes them available everywhere
from tests.servers.postgres import pg_database, postgres_server  # noqa: E402, F401
