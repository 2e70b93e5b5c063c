"""The channel's ``hangupsource``, which the CEL ``HANGUP`` record reports, as Asterisk 22 keeps it.

``ast_set_hangupsource(chan, source, 0)`` (main/channel.c) writes ``source`` on the channel and on its bridge
peer (``ast_channel_bridge_peer``: the other channel of a two-party bridge), on each only while its field is
still empty. Who calls it:

* a channel driver whose far end hung up — chan_pjsip ``chan_pjsip_session_end`` on a BYE, a CANCEL or a
  failure answer to our INVITE (then ``ast_queue_hangup``): the channel's own name (``far_end``);
* the ``Hangup()`` application (main/pbx_builtins.c ``pbx_builtin_hangup``): ``dialplan/builtin`` (``DIALPLAN``).

Nobody else: a soft hang-up (AMI ``Hangup``, ARI ``DELETE /channels``, ``core restart``), app_dial / app_queue
hanging up the targets they give up on, a ring timeout, the dialplan running out, the bridge hanging up the
party left alone, core_unreal passing a Local half's hang-up to the other half (``ast_queue_hangup_with_cause``)
— none names a source, so such a channel keeps what its peer's hang-up wrote, or "" (traces 02, 03, 07, 12).
"""

from __future__ import annotations

from ctiserver.sim.model import Channel

DIALPLAN = "dialplan/builtin"


def bridge_peer(ch: Channel) -> Channel | None:
    """The other channel of ``ch``'s bridge when it holds exactly two (a bridge recording is a ``Recorder/``
    channel of its own, trace 02), not of a holding bridge."""
    br = ch.bridge
    if br is None or br.destroyed or br.bridge_type == "holding" or br.recording is not None:
        return None
    others = [c for c in br.channels if c is not ch]
    return others[0] if len(br.channels) == 2 and len(others) == 1 else None


def set_source(ch: Channel, source: str) -> None:
    """``ast_set_hangupsource(ch, source, 0)``."""
    for x in (ch, bridge_peer(ch)):
        if x is not None and not x.hangup_source:
            x.hangup_source = source


def far_end(ch: Channel) -> None:
    """chan_pjsip saw the far end end the session (BYE, CANCEL, a final failure response)."""
    if ch.tech != "Local":
        set_source(ch, ch.name)
