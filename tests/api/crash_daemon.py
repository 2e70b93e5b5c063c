"""The whole daemon against a simulator of the parent test's (``test_restart_recovery.py``), run as a child
process to be killed with SIGKILL mid-call: it prints ``STARTED <recording>`` once the queue's policy recording
of the first call is saved, then runs until killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ctiserver.app import COMPONENTS as APP_COMPONENTS
from ctiserver.events.log import EventLog
from ctiserver.sim.config import SimConfig
from tests.api.harness import daemon
from tests.servers.redis import wait_for

COMPONENTS = tuple(c for c in APP_COMPONENTS if c != "ctiserver.sim.component")  # the whole daemon, our PBX
QUEUE_100 = """script: to-support
dids: ["100"]
nodes:
  sales: {type: queue, queue: support}
"""


def config(tmp: Path, ami_port: int, ari_url: str) -> dict[str, Any]:
    """DID 100 → queue ``support`` (always recorded) → agent 1001; the PBX at the given ports."""
    c = SimConfig()
    (tmp / "ivr").mkdir(exist_ok=True)
    (tmp / "ivr" / "to-support.yaml").write_text(QUEUE_100)
    return {
        "database": {  # the harness's, with calls in progress saved often (a SIGKILL loses the rest)
            "url": f"sqlite+aiosqlite:///{tmp}/cti.sqlite",
            "spool_dir": str(tmp / "spool"),
            "checkpoint_seconds": 0.2,
        },
        "pbx": {
            "ami": {"host": c.host, "port": ami_port, "username": c.ami_user, "secret": c.ami_secret},
            "ari": {"url": ari_url, "username": c.ari_user, "password": c.ari_password},
        },
        "ivr": {"scripts_dir": str(tmp / "ivr")},
        "acd": {"agents": [{"id": "1001", "device": "PJSIP/1001", "login": True}], "queues": [{"name": "support"}]},
        "recording": {"directory": str(tmp / "rec"), "default_policy": "always"},
    }


async def main(tmp: Path, ami_port: int, ari_url: str) -> None:
    async with daemon(tmp, COMPONENTS, **config(tmp, ami_port, ari_url)) as d:
        print("READY", flush=True)
        log = d.ctx.require(EventLog)
        await wait_for(lambda: any(e.type == "recording.started" for e in log._ring), limit=60.0)
        started = next(e for e in log._ring if e.type == "recording.started")
        print("STARTED " + str(started.data["name"]), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
