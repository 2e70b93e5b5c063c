"""The link state machine and the reconnect back-off shared by the AMI and ARI clients."""

from __future__ import annotations

import random

import pytest

from ctiserver.pbx.link import Backoff, IllegalTransition, Link, LinkState


def test_link_transitions_follow_the_table() -> None:
    seen: list[tuple[str, str]] = []
    link = Link("ami:test", lambda old, new: seen.append((old.value, new.value)))
    for state in (LinkState.CONNECTING, LinkState.AUTHENTICATING, LinkState.UP, LinkState.DOWN,
                  LinkState.CONNECTING, LinkState.DOWN, LinkState.CLOSED):  # fmt: skip
        link.to(state)
    assert seen[0] == ("idle", "connecting") and seen[-1] == ("down", "closed")
    with pytest.raises(IllegalTransition, match="closed -> connecting"):
        link.to(LinkState.CONNECTING)


@pytest.mark.parametrize(
    ("start", "bad"),
    [(LinkState.IDLE, LinkState.UP), (LinkState.DOWN, LinkState.UP), (LinkState.UP, LinkState.CONNECTING)],
)
def test_illegal_transitions_raise(start: LinkState, bad: LinkState) -> None:
    link = Link("x")
    link.state = start
    with pytest.raises(IllegalTransition):
        link.to(bad)
    assert link.state is start


def test_backoff_is_exponential_capped_and_jittered() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    ceilings = [min(30.0, 0.5 * 2**n) for n in range(12)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30.0 and delays[-1] >= 15.0
    assert len({round(d, 6) for d in delays[-4:]}) == 4  # jitter: reconnecting clients do not stampede
    backoff.reset()
    assert backoff.next_delay() <= 0.5
    with pytest.raises(ValueError):
        Backoff(0, 1)
