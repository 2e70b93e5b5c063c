"""The law's two seconds for an agent run from the end of the callee's greeting, over the wire.

The simulator runs the rendered ``ctiserver-amd`` context: its ``AMD()`` hears a person's "hello?" and says
HUMAN once ``afterGreetingSilence`` ms of silence followed (``AMDCAUSE=HUMAN-<silence>-<after>``, as app_amd).
By then that much of the two seconds is gone: the desk waits only for the rest. Every agent is busy when the
verdict comes; one is free one second later. With an after-greeting silence of 1.5 s that second is past the
two seconds after the greeting: the callee hears the message and the answer counts as abandoned (waiting two
seconds from the verdict connected it, 2.5 s after the greeting). With 0.3 s it is within them: connected."""

from __future__ import annotations

import pytest

from ctiserver.dialer.greeting import greeting_ended
from ctiserver.dialer.model import Outcome
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, one_live_answer, wire

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("after_ms", "outcome"), [(1500, Outcome.ABANDONED), (300, Outcome.HUMAN)])
async def test_the_wait_for_an_agent_counts_from_the_end_of_the_greeting(after_ms: int, outcome: Outcome) -> None:
    callees, contact, settings = one_live_answer("hello")
    dialplan = {"amd": {"after_greeting_silence": after_ms}}
    verdicts: list[tuple[float, str]] = []
    async with wire(settings, [contact], callees, factor=1.0, rendered=True, dialplan=dialplan) as w:

        def on_varset(event: AmiEvent) -> None:
            if event.get("Variable") == "AMDCAUSE":
                verdicts.append((w.runner.clock.now(), event.get("Value") or ""))

        w.ami.on_event("VarSet", on_varset)
        await w.runner.start()
        assert await until(lambda: w.runner.ringing, 10.0)
        taken = [await w.desk.reserve(settings, 0.0, call_id=f"other-{i}") for i in range(len(AGENTS))]
        assert None not in taken  # every agent busy while the callee answers and says hello
        assert await until(lambda: verdicts, 10.0)
        await w.runner.clock.sleep(verdicts[0][0] + 1.0 - w.runner.clock.now())
        freed = taken[0]
        assert freed is not None
        await w.desk.release(freed)  # one agent free, one second after the verdict
        assert await until(lambda: w.runner.counters["dialled"] == 1 and not w.runner._tasks, 15.0)
        attempts = await w.store.attempts("hello")
    assert verdicts[0][1] == f"HUMAN-{after_ms}-{after_ms}"
    assert [a.outcome for a in attempts] == [outcome]
    if outcome is Outcome.HUMAN:
        assert attempts[0].agent == freed
        assert (w.runner.counters["connected"], w.runner.counters["abandoned"]) == (1, 0)
    else:
        assert attempts[0].agent is None
        assert (w.runner.counters["connected"], w.runner.counters["abandoned"]) == (0, 1)


def test_when_the_greeting_ended() -> None:
    answered, verdict = 100.0, 101.6
    assert greeting_ended("HUMAN-800-800", verdict, answered, 0.8) == pytest.approx(100.8)
    assert greeting_ended("HUMAN-1200-800", verdict, answered, 0.8) == pytest.approx(100.4)
    # never before the answer
    assert greeting_ended("HUMAN-5000-800", verdict, answered, 0.8) == answered
    # the analysis ran out: any silence is shorter than the after-greeting silence (else: HUMAN)
    assert greeting_ended("TOOLONG-5000", 105.0, answered, 0.8) == pytest.approx(104.2)
    assert greeting_ended(None, verdict, answered, 0.8) == pytest.approx(100.8)
    # no analysis (amd: false): from the answer, which the verdict follows at once
    assert greeting_ended("DISABLED", 100.05, answered, 0.8) == 100.05
    # the daemon's own wait for a verdict ran out: it may have ended any time since the answer
    assert greeting_ended("TIMEOUT", 106.0, answered, 0.8) == answered
