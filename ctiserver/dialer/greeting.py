"""When the callee's greeting ended: the law's two seconds for an agent run from there, not from AMD's verdict.

US (47 CFR 64.1200(a)(7)(i)) and UK (Ofcom's persistent-misuse policy) rules count a call as abandoned unless
it is connected to a live agent within two seconds of the called person's *completed greeting*. ``AMD()`` says
HUMAN only once the greeting has been followed by ``afterGreetingSilence`` ms of silence (Asterisk's default
800), and tells how long that silence was in its cause: ``HUMAN-<silenceDuration>-<afterGreetingSilence>``
(app_amd.c). By the verdict, that much of the two seconds is gone; waiting the whole two seconds from the
verdict would connect (and count as connected) calls the law counts as abandoned, and play the message late.

* ``HUMAN-<silence>-<after>``: the greeting ended ``silence`` ms before the verdict.
* ``NOTSURE`` (``TOOLONG-<total>``: the analysis time ran out): any silence going on is shorter than
  ``afterGreetingSilence`` (else the verdict would have been HUMAN), so the greeting, if it ended, ended less
  than that before the verdict — taken as exactly that (the safe side).
* ``DISABLED`` (the campaign's ``amd: false``: the rendered ``noamd`` extension, no analysis): the greeting
  cannot end before the answer; the verdict follows the answer at once.
* ``TIMEOUT`` (the daemon's own ``amd_wait`` ran out, no verdict came): the greeting may have ended at any time
  since the answer — taken as at the answer.

Never before the answer.
"""

from __future__ import annotations

import re

_HUMAN = re.compile(r"^HUMAN-(\d+)-(\d+)$")


def greeting_ended(cause: str | None, verdict_at: float, answered_at: float, after_greeting: float) -> float:
    """The time (on the clock of ``verdict_at``) the callee's greeting ended; ``after_greeting`` in seconds."""
    text = (cause or "").strip().upper()
    if text == "DISABLED":
        return verdict_at
    if text == "TIMEOUT":
        return answered_at
    human = _HUMAN.match(text)
    silence = int(human.group(1)) / 1000.0 if human else after_greeting
    return max(answered_at, verdict_at - silence)
