"""The IVR's ``queue`` and ``callback`` nodes land here (``ctiserver.ivr.ports.QueueTarget`` /
``CallbackSink``): the channel stays in Stasis and the ACD owns it from now on."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ctiserver.acd.entries import Outcome, QueueRequest
from ctiserver.acd.service import AcdService
from ctiserver.control import CallControl, ControlError
from ctiserver.ivr.ports import CallbackRequest
from ctiserver.ivr.ports import QueueRequest as IvrQueueRequest
from ctiserver.logs import get_logger

log = get_logger(__name__)


class AcdQueueTarget:
    def __init__(self, acd: AcdService, control: CallControl) -> None:
        self._acd = acd
        self._control = control
        self._tasks: set[asyncio.Task[Any]] = set()

    async def enqueue(self, request: IvrQueueRequest) -> str | None:
        self._acd.queue_config(request.queue)  # unknown queue: raise now, to the script
        ours = QueueRequest(
            call_id=request.call_id,
            channel_id=request.channel_id,
            queue=request.queue,
            caller_number=request.caller_number,
            requirements=dict(request.skills) or None,
            priority=request.priority,
            attached={**dict(request.attached), "ivr_path": list(request.ivr_path)},
        )
        task = asyncio.create_task(self._stay(ours), name=f"cti:acd-call-{request.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.sleep(0)  # let it enter the queue, so the position is known
        position = self._acd.position(request.call_id)
        return f"position {position}" if position else None

    async def _stay(self, request: QueueRequest) -> None:
        try:
            result = await self._acd.enqueue(request)
        except Exception:
            log.exception("the ACD failed a call", call_id=request.call_id)
            with contextlib.suppress(ControlError):
                await self._control.hangup(request.channel_id)
            return
        if result.outcome is Outcome.TIMEOUT:
            await self._timeout_exit(request, result.queue)

    async def _timeout_exit(self, request: QueueRequest, queue: str) -> None:
        cfg = self._acd.queue_config(queue)
        with contextlib.suppress(ControlError):
            await self._control.stop_moh(request.channel_id)
            if cfg.timeout_exit:
                context, exten, *prio = cfg.timeout_exit.split(",")
                await self._control.continue_in_dialplan(
                    request.channel_id, context, exten, int(prio[0]) if prio else 1
                )
                return
            if cfg.timeout_media:
                await self._control.play(request.channel_id, list(cfg.timeout_media))
            await self._control.hangup(request.channel_id)

    async def request_callback(self, request: CallbackRequest) -> None:
        queue = request.queue or (self._acd.config.queues[0].name if self._acd.config.queues else "")
        await self._acd.request_callback(request.call_id, request.number, queue, attached=request.attached)

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
