"""The message for a live answer no agent took, over AMI: ``CTI_MESSAGE`` set on the customer's channel (held in
our ``Stasis``), then ``Redirect`` to the rendered abandon context, which plays it (with the opt-out key) and hangs
up.

A link lost under the two actions would leave the customer in silence in ``Stasis`` until they hang up (before
session 28 it did): once the link is back, while the channel is still in ``Stasis``, they are sent again, for up to
``RETRY`` s. A channel gone, or one elsewhere (the ``Redirect`` ran), is left alone."""

from __future__ import annotations

from collections.abc import Sequence

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import in_stasis, live_channels
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError

log = get_logger(__name__)

RETRY = 60.0  # s: a message cut off by an AMI outage is sent again while the link comes back within this


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
    give_up = clock.monotonic() + RETRY
    while True:
        try:
            await ami.action("Setvar", [("Channel", name), ("Variable", "CTI_MESSAGE"), ("Value", files(media))])
            await ami.action("Redirect", [("Channel", name), ("Context", context), ("Exten", "s"), ("Priority", "1")])
            return  # an error response: the customer has gone
        except AmiError as exc:
            if clock.monotonic() >= give_up:
                log.warning("abandon message not sent: AMI link down", channel=channel, error=str(exc))
                return
        try:
            found = (await live_channels(ami, timeout=timeout)).get(channel)
        except AmiError:
            continue  # the action waited for the link: try again (the deadline above bounds it)
        if found is None or not in_stasis(found):
            return
        log.info("abandon message sent again after AMI link loss", channel=channel)


def files(media: Sequence[str]) -> str:
    """``sound:a/b`` URIs → ``a/b&c/d``, Playback's list (no commas: AMI splits ``Variable`` values on them)."""
    return "&".join(m.split(":", 1)[-1] for m in media)
