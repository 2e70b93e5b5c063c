"""DTMF on channels: what a channel reads (``Direction: Received``) and where the digit goes from there.

* The channel that reads it reports ``DTMFBegin`` (not for SIP INFO, which carries only the end) and
  ``DTMFEnd`` with ``Direction: Received`` (AMI class ``dtmf``), a CEL ``DTMF`` record and, to the ARI
  applications watching it, ``ChannelDtmfReceived``; an application reading digits on it (``Read()``,
  ``ctiserver.sim.input_apps``) gets the digit.
* In a mixing bridge the digit is passed on, as bridge_channel.c does for a DTMF frame that is no feature: each
  other member is written the digit (channel.c ``ast_write`` → ``DTMFBegin``/``DTMFEnd`` with
  ``Direction: Sent``). A holding bridge passes nothing.
* A Local half written a digit queues it to its other half (core_unreal.c ``unreal_digit_begin``/``_end``),
  which reads it: ``Received`` there. So a callee's key behind a trunk, bridged by ``Dial`` with ``;2``,
  reaches the dialplan running on ``;1``.

No recorded trace covers a digit through a bridge; the order (the reader's events first, then each peer's
``Sent``, then the Local partner's ``Received``) follows the source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine


def received(engine: Engine, ch: Channel, digit: str, duration_ms: int, mode: str) -> None:
    """``ch`` reads ``digit`` (``mode``: ``info`` or ``rfc4733``), then passes it on."""
    if ch.hung_up:
        return
    begin = mode != "info"
    if begin:
        engine.ami_chan("DTMFBegin", ch, [("Digit", digit), ("Direction", "Received")], privilege="dtmf,all")
    engine.ami_chan(
        "DTMFEnd",
        ch,
        [("Digit", digit), ("DurationMs", str(duration_ms)), ("Direction", "Received")],
        privilege="dtmf,all",
    )
    engine.cel.emit("DTMF", ch, extra=f'{{"digit":"{digit}","duration_ms":{duration_ms}}}')
    engine.ari_chan("ChannelDtmfReceived", ch, [("digit", digit), ("duration_ms", duration_ms)])
    for cb in list(ch.tags.get("dtmf_listeners", ())):
        cb(digit)
    bridge = ch.bridge
    if bridge is None or bridge.bridge_type != "mixing":
        return
    for peer in [p for p in bridge.channels if p is not ch and not p.hung_up]:
        _written(engine, peer, digit, duration_ms, begin)


def _written(engine: Engine, ch: Channel, digit: str, duration_ms: int, begin: bool) -> None:
    if begin:
        engine.ami_chan("DTMFBegin", ch, [("Digit", digit), ("Direction", "Sent")], privilege="dtmf,all")
    engine.ami_chan(
        "DTMFEnd", ch, [("Digit", digit), ("DurationMs", str(duration_ms)), ("Direction", "Sent")], privilege="dtmf,all"
    )
    other = ch.tags.get("local_peer")
    if isinstance(other, Channel) and not other.hung_up:
        received(engine, other, digit, duration_ms, "rfc4733" if begin else "info")
