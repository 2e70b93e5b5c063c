"""Roles of dialled legs, a three-way "attended transfer" and a blind transfer back into the same queue, on the
captures of ``scenarios.py`` (queue outcomes in queue_log's words, as ``expected.json`` of the traces)."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.calls.export import calls_json
from ctiserver.calls.replay import track_bytes
from tests.calls import scenarios


def _calls(capture: bytes) -> list[dict[str, Any]]:
    tracker = track_bytes([capture])
    assert not tracker.calls
    return list(calls_json(tracker.all_calls())["calls"])


def _roles(capture: bytes) -> dict[str, str]:
    return {leg["channel"]: leg["role"] for call in _calls(capture) for leg in call["legs"]}


def test_a_phone_dialled_by_the_originated_local_half_is_an_agent() -> None:
    """Originate Local/601@test → from-agents,1001: ;1 runs the Originate's extension and dials PJSIP/1001 —
    the agent who takes the call (trace 09's "agent (dialed by dialplan)"), not the party it was placed to."""
    assert _roles(scenarios.originate_local("1")) == {
        "Local/601@test-00000004;1": "local",
        "Local/601@test-00000004;2": "local",
        "PJSIP/1001-00000040": "agent",
    }


def test_the_party_an_originated_local_channel_reaches_stays_outbound() -> None:
    """The dialler's shape: ;2 runs <number>@ctx and dials the customer — the outbound party."""
    assert _roles(scenarios.originate_local("2"))["PJSIP/5551234-00000040"] == "outbound"


def test_a_leg_originated_alone_then_bridged_into_a_call_is_an_agent() -> None:
    """ARI originate without ``originator``: its own linkedid first (outbound), then the caller's."""
    tracker = track_bytes([scenarios.ari_originate_without_originator()])
    [call] = tracker.all_calls()
    assert {leg.channel: leg.role.value for leg in call.legs.values()} == {
        "PJSIP/caller-00000050": "caller",
        "PJSIP/1001-00000051": "agent",
    }
    assert [c["uniqueid"] for c in tracker.linkedid_changes] == ["cti-test-1795371001.71"]


def test_a_threeway_is_no_transfer_of_the_queue_call() -> None:
    """DestType Threeway: app_queue handle_attended_transfer() returns early; the stay ends COMPLETEAGENT."""
    [call] = _calls(scenarios.threeway(late=False))
    [seg] = call["queues"]
    assert (seg["outcome"], seg["talk_seconds"], seg["agent"]) == ("COMPLETEAGENT", 9.0, "Agent 1001")
    assert [t["kind"] for t in call["transfers"]] == ["threeway"]


def test_an_attended_transfer_still_is() -> None:
    [call] = _calls(scenarios.attended_transfer(late=True))
    [seg] = call["queues"]
    assert (seg["outcome"], seg["talk_seconds"]) == ("ATTENDEDTRANSFER", 6.0)
    assert _roles(scenarios.attended_transfer(late=True))["PJSIP/1002-00000022"] in ("agent", "transfer_target")


@pytest.mark.parametrize("race", [False, True])
def test_a_blind_transfer_back_into_the_queue_completes_the_stay_the_member_answered(race: bool) -> None:
    """The first stay's AgentComplete (TalkTime 2) may come after the caller joined again: matched by the
    member's channel, it completes the first stay, not the second."""
    [call] = _calls(scenarios.blind_to_same_queue(race))
    got = [(q["outcome"], q["agent"], q["talk_seconds"]) for q in call["queues"]]
    assert got == [("BLINDTRANSFER", "Agent 1001", 2.0), ("COMPLETECALLER", "Agent 1002", 4.0)]
