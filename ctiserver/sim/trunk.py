"""SIP trunks: ``Dial(PJSIP/<number>@trunk)`` reaches a party at the carrier, not one of our endpoints.

As chan_pjsip does with a ``<user>@<endpoint>`` dial string, the outgoing channel is named after the trunk's
endpoint (``PJSIP/trunk-0000001a``; the number is the request URI's user part, and ``DialString`` is
``<number>@trunk``). Who answers at the carrier is the simulator's callee model: a ``FarEndConfig`` per number
(``Simulator.customer``), else the trunk's ``default`` (out of the box the carrier's 404 Not Found). A party
that refuses the call ends the channel with the cause chan_pjsip's ``hangup_sip2cause`` gives the SIP status
(486 → 17, 404 → 1, 480 → 19, 503 → 34, …), the status itself as ``TechCause``, the hang-up queued as
``ast_queue_hangup_with_cause`` does (``HangupRequest`` with the cause)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctiserver.sim import hangup_source
from ctiserver.sim.config import FarEndConfig, TrunkConfig
from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine

# chan_pjsip.c hangup_sip2cause: the statuses a carrier sends; the others by class, as there (4xx/6xx: 127
# interworking, 5xx: 34 congestion)
SIP_CAUSES = {
    401: 21,
    403: 21,
    404: 1,
    407: 21,
    408: 18,
    409: 41,
    410: 22,
    420: 3,
    480: 19,
    483: 19,
    484: 28,
    485: 1,
    486: 17,
    488: 58,
    500: 38,
    502: 27,
    503: 34,
    600: 17,
    603: 21,
}


def sip_cause(status: int) -> int:
    if status in SIP_CAUSES:
        return SIP_CAUSES[status]
    return 34 if 500 <= status < 600 else 127


class Trunks:
    """The trunks of the configuration and the parties behind them, by number."""

    def __init__(self, trunks: tuple[TrunkConfig, ...]) -> None:
        self.trunks = {f"PJSIP/{t.name}": t for t in trunks}
        self.parties: dict[str, FarEndConfig] = {}

    def split(self, endpoint: str) -> tuple[str, str] | None:
        """``PJSIP/<number>@<trunk>`` → (``PJSIP/<trunk>``, number) when ``<trunk>`` is a trunk, else None."""
        tech, _, resource = endpoint.partition("/")
        user, at, name = resource.partition("@")
        if not at or f"{tech}/{name}" not in self.trunks:
            return None
        return f"{tech}/{name}", user

    def party(self, trunk: str, number: str) -> FarEndConfig:
        return self.parties.get(number) or self.trunks[trunk].default


def start(engine: Engine, ch: Channel, party: FarEndConfig) -> asyncio.Task[None]:
    """The carrier's side of an outgoing trunk channel: it rings, then answers, or refuses the call."""
    return engine.spawn(_run(engine, ch, party), name=f"sim:trunk:{ch.name}")


async def _run(engine: Engine, ch: Channel, party: FarEndConfig) -> None:
    from ctiserver.sim.dial import far_end

    if party.reject is None:
        await far_end(engine, ch, party.answer_after, party.hangup_after)
        if party.dtmf and ch.answered_at is not None:
            await _press(engine, ch, party.dtmf)
        return
    await engine.clock.sleep(party.reject_after)
    if not (ch.hung_up or ch.hangup_requested):
        refuse(engine, ch, party.reject)


async def _press(engine: Engine, ch: Channel, keys: tuple[tuple[float, str], ...]) -> None:
    """The party presses ``keys`` (seconds after its answer, digit), RFC 4733 as carriers send them."""
    answered = engine.clock.now()
    for at, digit in sorted(keys):
        await engine.clock.sleep(max(0.0, answered + at - engine.clock.now()))
        if ch.hung_up or ch.hangup_requested:
            return
        engine.dtmf(ch, digit, 250, "rfc4733")


def refuse(engine: Engine, ch: Channel, status: int) -> None:
    """The far end's final response ``status`` to our INVITE (chan_pjsip_session_end)."""
    cause = sip_cause(status)
    ch.tech_cause = status
    hangup_source.far_end(ch)
    engine.ami_chan("HangupRequest", ch, [("Cause", str(cause))])
    engine.ari_chan("ChannelHangupRequest", ch, pre=[("cause", cause)])
    engine.hangup(ch, cause, request=False)
