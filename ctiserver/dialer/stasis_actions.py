"""What the AMI lines do to an answered attempt held in our ``Stasis``: the message (``CTI_MESSAGE`` set on the
channel, then ``Redirect`` to the rendered abandon context, which plays it with the opt-out key and hangs up) or,
for a machine with no message, the hang-up.

A link lost under these actions would leave the channel in ``Stasis``: a customer in silence until they hang up,
a machine recording silence and holding a line until its recording ends (before session 28 for the message and
session 29 for the hang-up, it did). Once the link is back, while the channel is still in ``Stasis``, they are
sent again, for up to ``RETRY`` s. A channel gone, or one elsewhere (the ``Redirect`` ran), is left alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import in_stasis, live_channels
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError

log = get_logger(__name__)

RETRY = 60.0  # s: an action cut off by an AMI outage is sent again while the link comes back within this


async def play_message(
    ami: AmiClient,
    clock: Clock,
    channel: str,
    name: str,
    media: Sequence[str],
    context: str,
    timeout: float,  # noqa: ASYNC109 - per action, on the injected clock
) -> None:
    """Play ``media`` to ``channel`` (Uniqueid; ``name``: its channel name, what the actions want) in ``context``."""

    async def send() -> None:
        await ami.action("Setvar", [("Channel", name), ("Variable", "CTI_MESSAGE"), ("Value", files(media))])
        await ami.action("Redirect", [("Channel", name), ("Context", context), ("Exten", "s"), ("Priority", "1")])

    await _while_held(ami, clock, channel, send, timeout, "abandon message")


async def hang_up(ami: AmiClient, clock: Clock, channel: str, name: str, timeout: float) -> None:  # noqa: ASYNC109
    """Hang ``channel`` up (normal clearing, 16)."""

    async def send() -> None:
        await ami.action("Hangup", [("Channel", name), ("Cause", "16")])

    await _while_held(ami, clock, channel, send, timeout, "hangup")


async def _while_held(
    ami: AmiClient,
    clock: Clock,
    channel: str,
    send: Callable[[], Awaitable[None]],
    timeout: float,  # noqa: ASYNC109 - per listing, on the injected clock
    what: str,
) -> None:
    give_up = clock.monotonic() + RETRY
    while True:
        try:
            await send()
            return  # an error response (not raised: ``check`` is off) means the channel has gone
        except AmiError as exc:
            if clock.monotonic() >= give_up:
                log.warning(f"{what} not sent: AMI link down", channel=channel, error=str(exc))
                return
        try:
            found = (await live_channels(ami, timeout=timeout)).get(channel)
        except AmiError:
            continue  # the action waited for the link: try again (the deadline above bounds it)
        if found is None or not in_stasis(found):
            return
        log.info(f"{what} sent again after AMI link loss", channel=channel)


def files(media: Sequence[str]) -> str:
    """``sound:a/b`` URIs → ``a/b&c/d``, Playback's list (no commas: AMI splits ``Variable`` values on them)."""
    return "&".join(m.split(":", 1)[-1] for m in media)
