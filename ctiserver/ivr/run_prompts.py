"""Handlers of the node kinds that talk with the caller: play, menu, collect, survey."""

from __future__ import annotations

import re

from ctiserver.ivr import nodes as n
from ctiserver.ivr import nodes_out as o
from ctiserver.ivr.ports import SurveyResult
from ctiserver.ivr.run_state import Exit, Next, Run
from ctiserver.ivr.session import IvrEnd


async def play(run: Run, node: n.Play) -> Next:
    result = await run.play(node.sounds, barge_in=node.barge_in)
    if result.digit is not None:
        run.note(digits=result.digit, result="barged")
        run.pending = result.digit
    return node.next


async def _one_digit(run: Run, prompt: list[str], wait: float, pending: str | None) -> str | None:
    """The digit pressed during ``prompt`` (barge-in) or within ``wait`` seconds after it; None if none."""
    if pending is not None:
        return pending
    res = await run.play(prompt, barge_in=True)
    if res.digit is not None:
        return res.digit
    got = await run.control.collect_dtmf(
        run.channel, max_digits=1, first_digit_timeout=wait, inter_digit_timeout=wait, terminators=""
    )
    return got.digits[:1] or None


async def _retry_prompt(run: Run, media: list[str]) -> str | None:
    res = await run.play(media, barge_in=True)
    return res.digit


def _failed(run: Run, target: str | None, why: str) -> Next:
    run.note(result=why)
    return target if target is not None else Exit(IvrEnd.HANGUP)


async def menu(run: Run, node: n.Menu) -> Next:
    pending = run.take_pending()
    for attempt in range(node.retries + 1):
        digit = await _one_digit(run, node.prompt, node.timeout, pending)
        pending = None
        if digit is not None:
            run.note(digits=digit)
            if digit in node.options:
                run.note(result=f"option {digit}")
                return node.options[digit]
        if attempt < node.retries:
            pending = await _retry_prompt(
                run, node.invalid_prompt if digit is not None else node.timeout_prompt
            )
    return _failed(run, node.on_fail, "failed")


async def collect(run: Run, node: n.Collect) -> Next:
    pending = run.take_pending()
    for attempt in range(node.retries + 1):
        first = pending or (await run.play(node.prompt, barge_in=True)).digit or ""
        pending = None
        terminated = bool(first) and first == node.terminator
        digits = "" if terminated else first
        # with a terminator the caller ends the input with it (one digit too many = too long);
        # without one, input stops at max_length
        room = node.max_length - len(digits) + (1 if node.terminator else 0)
        if not terminated and room > 0:
            got = await run.control.collect_dtmf(
                run.channel,
                max_digits=room,
                first_digit_timeout=node.inter_digit_timeout if digits else node.timeout,
                inter_digit_timeout=node.inter_digit_timeout,
                terminators=node.terminator,
            )
            digits += got.digits
            if node.terminator and len(digits) > node.max_length and got.terminated_by is None:
                # too long: swallow what is left of this entry (up to the terminator) before re-prompting
                await run.control.collect_dtmf(
                    run.channel,
                    max_digits=64,
                    first_digit_timeout=0.2,
                    inter_digit_timeout=0.2,
                    terminators=node.terminator,
                )
        run.note(digits=(digits or "-") if attempt == 0 else f",{digits or '-'}")
        ok = node.min_length <= len(digits) <= node.max_length
        if ok and node.pattern is not None:
            ok = re.fullmatch(node.pattern, digits) is not None
        if ok:
            await run.set_var(node.var, digits)
            run.note(result="valid")
            return node.next
        if attempt < node.retries:
            await run.play(node.invalid_prompt)
    return _failed(run, node.on_fail, "invalid")


async def survey(run: Run, node: o.Survey) -> Next:
    pending = run.take_pending()
    for attempt in range(node.retries + 1):
        digit = await _one_digit(run, node.question, node.timeout, pending)
        pending = None
        if digit is not None:
            run.note(digits=digit)
            if digit.isdigit() and 1 <= int(digit) <= node.scale:
                score = int(digit)
                await run.set_var(f"survey_{node.name}", score)
                if run.services.surveys is not None:
                    await run.services.surveys.store_survey(
                        SurveyResult(
                            run.session.call.call_id,
                            node.name,
                            score,
                            node.scale,
                            run.clock.now(),
                            run.script.name,
                        )
                    )
                run.note(result=f"score {score}")
                await run.play(node.thanks)
                return node.next
        if attempt < node.retries:
            pending = await _retry_prompt(run, node.invalid_prompt)
    run.note(result="no answer")
    return node.next
