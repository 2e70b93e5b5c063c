"""PbxNode's restart detection from AMI FullyBooted, on a manual clock (no sockets needed: the rule only)."""

from __future__ import annotations

import pytest

from ctiserver.clock import ManualClock
from ctiserver.config import PbxConfig
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.pbx.node import PbxNode


def booted(uptime: int) -> AmiEvent:
    return AmiEvent([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", str(uptime))])


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch) -> tuple[PbxNode, ManualClock, list[str]]:
    clock = ManualClock()
    n = PbxNode(PbxConfig(), clock)
    kicks: list[str] = []
    monkeypatch.setattr(n.ari, "reconnect", lambda reason="": kicks.append(reason))
    return n, clock, kicks


async def test_normal_start_and_repeated_logins_do_not_reregister(
    node: tuple[PbxNode, ManualClock, list[str]],
) -> None:
    n, clock, kicks = node
    await clock.advance(100)
    n._ari_connected(None)  # our WebSocket opened at t=100
    n._fully_booted(booted(3600))  # Asterisk up for an hour
    await clock.advance(30)
    n._fully_booted(booted(3630))  # AMI re-login, same boot
    assert kicks == [] and n.asterisk_restarts == 0


async def test_restart_reregisters_once_per_boot(node: tuple[PbxNode, ManualClock, list[str]]) -> None:
    n, clock, kicks = node
    n._fully_booted(booted(500))
    await clock.advance(10)
    n._ari_connected(None)
    await clock.advance(50)
    n._fully_booted(booted(0))  # Asterisk restarted
    assert len(kicks) == 1 and n.asterisk_restarts == 1
    n._ari_connected(None)  # re-registered
    await clock.advance(1)
    n._fully_booted(booted(1))  # AMI login after the boot: the same boot again
    assert len(kicks) == 1 and n.asterisk_restarts == 1
    await clock.advance(600)
    n._fully_booted(booted(2))  # another restart later
    assert len(kicks) == 2 and n.asterisk_restarts == 2


async def test_websocket_older_than_the_first_boot_seen_is_renewed(
    node: tuple[PbxNode, ManualClock, list[str]],
) -> None:
    n, clock, kicks = node
    n._ari_connected(None)  # t=0
    await clock.advance(20)
    n._fully_booted(booted(5))  # booted at t=15, after our registration
    assert len(kicks) == 1 and n.asterisk_restarts == 0
