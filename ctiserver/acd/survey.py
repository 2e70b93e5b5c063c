"""The post-call survey as the ACD sees it: when the agent hangs up first on a call from a queue with
``survey: <script>``, the caller (still in Stasis) is handed to this port instead of being hung up. The IVR
component provides it (``ctiserver.ivr.post_call.IvrPostCallSurvey``) in the app context."""

from __future__ import annotations

from typing import Protocol


class PostCallSurvey(Protocol):
    async def run(self, call_id: str, channel_id: str, script: str) -> None:
        """Run ``script`` on ``channel_id`` (the result is stored against ``call_id``); return when it is over.
        The port owns the channel from now on (it hangs it up when the survey ends or cannot run)."""
        ...
