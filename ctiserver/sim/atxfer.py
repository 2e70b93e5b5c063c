"""AMI ``Atxfer`` (attended transfer through a Local channel), as the traces' README describes for
Asterisk 22: the reply is "Atxfer successfully queued"; the transferee waits on hold; the transferer talks
to the target through a ``Local/<exten>@<context>`` pair; when the transferer hangs up, the transferee is
bridged with the target and ``AttendedTransfer`` (Result: Success) is raised; app_queue records
ATTENDEDTRANSFER. When the target (the Local channel) hangs up first, the transferer is bridged with the
transferee again and ``AttendedTransfer`` says ``Result: Fail`` / ``DestType: Fail`` (bridge_basic.c's
TRANSFER_REBRIDGE). Header order as stasis_bridges.c's ``attended_transfer_to_ami``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctiserver.sim import bridging, media
from ctiserver.sim.dial import dial_out, start_far_end
from ctiserver.sim.engine import AllocationFailed
from ctiserver.sim.fmt import bridge_headers, chan_headers
from ctiserver.sim.model import Channel

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine


class TransferError(Exception):
    pass


def attended_transfer(engine: Engine, transferer: Channel, exten: str, context: str) -> None:
    """Start the consultation call; the transfer completes when ``transferer`` hangs up."""
    first = transferer.bridge
    if first is None:
        raise TransferError("Channel is not bridged")
    transferees = [c for c in first.channels if c is not transferer]
    if not transferees:
        raise TransferError("Nothing to transfer")
    transferee = transferees[0]
    try:
        target = dial_out(
            engine,
            f"Local/{exten}@{context}",
            caller=(transferer.caller_name, transferer.caller_num),
            connected=(transferee.caller_name, transferee.caller_num),
            linkedid=transferee.linkedid,
        )
    except AllocationFailed as exc:
        raise TransferError("Unable to dial the transfer target") from exc
    transferer.tags["transfer"] = (exten, context)
    transferer.tags["transfer_kind"] = "ATTENDEDTRANSFER"
    media.moh_start(engine, transferee)
    first.destroyed = True  # the transferer steps out; the transferee stays
    bridging.leave(engine, transferer)
    first.destroyed = False
    second = bridging.create(engine, bridge_class="basic")

    def on_answer(one: Channel) -> None:
        if not transferer.hangup_requested and second.id in engine.bridges:
            bridging.enter(engine, second, one)
            bridging.enter(engine, second, transferer)

    def event(result: str, dest: list[tuple[str, str]]) -> None:
        engine.hub.ami(
            "AttendedTransfer",
            "call,all",
            [
                ("Result", result),
                *chan_headers(transferer, "OrigTransferer"),
                *bridge_headers(first, prefix="Orig"),
                *chan_headers(transferer, "SecondTransferer"),
                *bridge_headers(second, prefix="Second"),
                *chan_headers(transferee, "Transferee"),
                *chan_headers(target, "TransferTarget"),
                ("IsExternal", "No"),
                *dest,
            ],
        )

    def complete(_: Channel) -> None:
        remove_rebridge()
        if target.hung_up or target.bridge is not second:
            engine.hangup(target, 16, dissolve=True)
            return
        event("Success", [("DestType", "Bridge"), ("DestBridgeUniqueid", first.id)])
        second.destroyed = True  # moving the target must not hang it up
        bridging.leave(engine, target)
        media.moh_stop(engine, transferee)
        bridging.enter(engine, first, target)
        second.destroyed = False
        if transferer.bridge is second:
            second.destroyed = True
            bridging.leave(engine, transferer)
            second.destroyed = False
        bridging.destroy(engine, second)

    def rebridge(_: Channel) -> None:
        """The target hung up (or never answered) while the transferer consulted: back to the transferee."""
        remove_complete()
        if transferer.hung_up or transferee.hung_up or first.id not in engine.bridges:
            return
        event("Fail", [("DestType", "Fail")])
        transferer.tags.pop("transfer", None)  # the agent's call goes on: app_queue will not say ATTENDEDTRANSFER
        transferer.tags.pop("transfer_kind", None)
        if transferer.bridge is second:
            second.destroyed = True
            bridging.leave(engine, transferer)
            second.destroyed = False
        bridging.destroy(engine, second)
        media.moh_stop(engine, transferee)
        bridging.enter(engine, first, transferer)

    target.tags["on_answer"] = on_answer
    remove_complete = engine.on_hangup(transferer, complete)
    remove_rebridge = engine.on_hangup(target, rebridge)
    start_far_end(engine, target)
