"""A phone with auto-answer on answers at once when the INVITE asks for it, over ARI: the ACD originates an agent
with ``auto_answer`` carrying ``PJSIP_HEADER(add,Call-Info)=answer-after=0`` (``acd.auto_answer_header``); the
simulated phone then answers without its ring delay, as a softphone or desk phone with auto-answer enabled does.
Without the header, or with the phone's auto-answer off, it rings its usual time."""

from __future__ import annotations

import time

import pytest

from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AriProbe

RING = 3.0


async def _answered_after(sim: Simulator, ari: AriProbe, cid: str, variables: dict[str, str]) -> float:
    started = time.monotonic()
    body = {"variables": variables}
    params = {"endpoint": "PJSIP/1001", "app": "ctiserver", "channelId": cid}
    async with ari.session.post(ari.base + "/channels", params=params, json=body) as r:
        assert r.status == 200, await r.text()
    await ari.wait("StasisStart", pred=lambda e: e["channel"]["id"] == cid, limit=RING + 5)
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("variables", "auto_answer", "at_once"),
    [
        ({"PJSIP_HEADER(add,Call-Info)": "answer-after=0"}, True, True),
        ({"PJSIP_HEADER(add,Alert-Info)": "<http://example.com>;info=alert-autoanswer"}, True, True),
        ({"PJSIP_HEADER(add,Call-Info)": "answer-after=0"}, False, False),  # the phone's auto-answer is off
        ({"CTI_QUEUE": "sales"}, True, False),  # nothing asks for it
    ],
)
async def test_a_phone_answers_at_once_when_the_invite_asks_for_auto_answer(
    variables: dict[str, str], auto_answer: bool, at_once: bool
) -> None:
    async with Simulator() as sim:
        handle = sim.agent("1001", answer_after=RING, hangup_after=0.3)
        handle.endpoint.auto_answer = auto_answer
        ari = AriProbe(sim.ari_url)
        try:
            await ari.connect()
            took = await _answered_after(sim, ari, "agent-leg-1", variables)
        finally:
            await ari.close()
    assert (took < 1.0) is at_once, took
    assert at_once or took >= RING - 0.1
