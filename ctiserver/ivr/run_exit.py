"""Handlers of the node kinds that hand the call on or end it, or act elsewhere: queue, transfer, callback,
do-not-call, record, hangup."""

from __future__ import annotations

import contextlib

from ctiserver.control import ControlError
from ctiserver.ivr import expr
from ctiserver.ivr import nodes_out as o
from ctiserver.ivr.ports import CallbackRequest, QueueRequest
from ctiserver.ivr.run_state import Exit, Next, Run
from ctiserver.ivr.session import IvrEnd


async def queue(run: Run, node: o.Queue) -> Next:
    await run.play(node.prompt)
    call = run.session.call
    request = QueueRequest(
        call_id=call.call_id,
        channel_id=call.channel_id,
        queue=node.queue,
        skills=dict(node.skills),
        priority=node.priority,
        announcements=tuple(node.announcements),
        attached=dict(run.session.attached),
        caller_number=call.caller_number,
        language=run.script.language,
        ivr_path=(*run.session.path, run.node_name),
    )
    run.session.end, run.session.target = IvrEnd.QUEUE, node.queue  # a later caller hang-up keeps this end
    if run.services.queue is not None:
        result = await run.services.queue.enqueue(request)
        run.note(result=f"queued {node.queue}" + (f": {result}" if result else ""))
    else:
        await run.control.continue_in_dialplan(run.channel, run.services.settings.queue_context, node.queue)
        run.note(result=f"dialplan {node.queue}@{run.services.settings.queue_context}")
    return Exit(IvrEnd.QUEUE, node.queue)


async def transfer(run: Run, node: o.Transfer) -> Next:
    to = str(expr.render(node.to, run.context())).strip()
    settings = run.services.settings
    external = to.startswith("+") or len(to) > 6
    context = node.context or (settings.external_context if external else settings.transfer_context)
    await run.control.continue_in_dialplan(run.channel, context, to)
    run.note(result=f"{to}@{context}")
    return Exit(IvrEnd.TRANSFER, to)


async def callback(run: Run, node: o.Callback) -> Next:
    digit = run.take_pending() or (await run.play(node.prompt, barge_in=True)).digit
    if digit is None:
        got = await run.control.collect_dtmf(
            run.channel,
            max_digits=1,
            first_digit_timeout=node.timeout,
            inter_digit_timeout=node.timeout,
            terminators="",
        )
        digit = got.digits[:1] or None
    if digit is not None:
        run.note(digits=digit)
    if digit != node.accept_digit:
        run.note(result="declined")
        return node.declined
    number = str(expr.render(node.number, run.context())).strip()
    if run.services.callbacks is not None:
        await run.services.callbacks.request_callback(
            CallbackRequest(
                run.session.call.call_id, number, node.queue, run.clock.now(), dict(run.session.attached)
            )
        )
    await run.set_var("callback_number", number)
    run.session.outcome = run.session.outcome or "callback"
    run.note(result=f"requested {number}")
    await run.play(node.confirm)
    return node.accepted


async def do_not_call(run: Run, node: o.DoNotCall) -> Next:
    number = str(expr.render(node.number, run.context())).strip()
    sink = run.services.dnc
    if sink is None:
        run.note(result="refused: no do-not-call lists here (the dialler does not run)")
        return node.on_error
    call_id = run.session.call.call_id
    reason = f"opt-out line: IVR {run.script.name}:{run.node_name} (call {call_id})"
    try:
        stored = await sink.do_not_call(number, node.campaign, reason[:128], call_id)
    except ValueError as exc:
        run.note(result=f"refused: {exc}")
        return node.on_error
    await run.set_var("dnc_number", stored)
    run.session.outcome = run.session.outcome or "do_not_call"
    run.note(result=f"{stored} on the {node.campaign or 'global'} list")
    await run.play(node.confirm)
    return node.next


async def record_message(run: Run, node: o.RecordMessage) -> Next:
    await run.play(node.prompt)
    if node.beep:
        await run.play(["sound:beep"])
    name = f"ivr-{run.session.call.call_id}-{len(run.session.steps)}"
    name = await run.control.record(run.channel, name, fmt="wav")
    try:
        got = await run.control.collect_dtmf(
            run.channel,
            max_digits=1,
            first_digit_timeout=node.max_seconds,
            inter_digit_timeout=node.max_seconds,
            terminators="#",
        )
    finally:
        with contextlib.suppress(ControlError):  # a hang-up stops the recording by itself
            await run.control.stop_recording(name)
    await run.set_var(node.var, name)
    run.note(result=f"recorded {name}" + (" (#)" if got.terminated_by else ""))
    return node.next


async def hangup(run: Run, node: o.Hangup) -> Next:
    await run.play(node.sounds)
    await run.control.hangup(run.channel, node.cause)
    run.note(result=node.cause)
    return Exit(IvrEnd.HANGUP)
