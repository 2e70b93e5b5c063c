"""The dialer in the composition root (sim → store → events → pbx → dialer) over real sockets, with the SQL
store: a campaign from the configuration dials a contact, the answered call reaches an agent's phone, the
attempt lands in the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from ctiserver.app import running
from ctiserver.config import Config
from ctiserver.dialer.model import Contact, Outcome
from ctiserver.dialer.service import DialerService
from tests.dialer.wire import window_around_now

COMPONENTS = (
    "ctiserver.sim.component",
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.dialer.component",
)


def _sim_yaml(path: Path) -> Path:
    conf = {
        "endpoints": [
            {"name": "1001", "callerid_name": "Agent 1001", "callerid_num": "1001", "answer_after": 0.2},
            {"name": "+49301000001", "answer_after": 0.5, "hangup_after": 2.0},
        ],
        "dialplan": {
            "ctiserver-amd": {"s": [{"app": "Wait", "data": "60"}, {"app": "Hangup"}]},
            # the message an abandoned answer hears: without it the daemon's dialplan check lets nothing be dialled
            "ctiserver-dialer-abandon": {"s": [{"app": "Playback", "data": "${CTI_MESSAGE}"}, {"app": "Hangup"}]},
            "from-agents": {"_100X": [{"app": "Dial", "data": "PJSIP/${EXTEN},30"}, {"app": "Hangup"}]},
        },
    }
    path.write_text(yaml.safe_dump(conf), encoding="utf-8")
    return path


async def test_configured_campaign_dials_through_the_daemon(tmp_path: Path) -> None:
    windows = window_around_now().model_dump(mode="json")
    config = Config.model_validate(
        {
            "simulator": {"enabled": True, "config_file": str(_sim_yaml(tmp_path / "sim.yaml"))},
            "database": {
                "url": f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}",
                "spool_dir": str(tmp_path / "sp"),
            },
            "dialer": {
                "lines": {"channel": "PJSIP/{e164}", "amd_wait": 0.5},
                "agents": ["1001"],
                "wrapup": 0.5,
                "campaigns": [{"name": "spring", "mode": "progressive", "windows": windows}],
            },
        }
    )
    async with running(config, components=COMPONENTS) as ctx:
        service = ctx.require(DialerService)
        await service.add_contacts("spring", [Contact("k1", "spring", "+49301000001", "Europe/Berlin")])
        await service.start("spring")
        async with asyncio.timeout(60):
            while not await service.store.attempts("spring"):  # noqa: ASYNC110 - written by the runner
                await asyncio.sleep(0.1)
        [attempt] = await service.store.attempts("spring")
        stats = service.stats("spring")[0]
    assert attempt.outcome is Outcome.HUMAN and attempt.agent == "1001" and attempt.amd_status == "NOTSURE"
    assert stats["counters"]["connected"] == 1
    assert attempt.connected is not None and attempt.talk_seconds is not None  # the agent's phone answered
    assert type(service.store).__name__ == "SqlDialerStore"
