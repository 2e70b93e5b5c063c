"""Recording calls: per-queue policy, start on bridge, pause/resume (card numbers), metadata, file facts.

The PBX writes ``<directory>/<call id>-<n>.<format>``; every state change is saved before it is announced on
the bus (``recording.started``/``paused``/``resumed``/``ready``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path

from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger
from ctiserver.recording.config import Policy, RecordingConfig
from ctiserver.recording.files import file_facts
from ctiserver.recording.meta import Pause, RecordingMeta, RecordingStore, RecState
from ctiserver.recording.mixmonitor import MixMonitorRecorder

log = get_logger(__name__)

FOLLOW = 2.0  # s between looks at an ARI recording an earlier run left (``recover``)
CONTENT_TYPES = {"wav": "audio/wav", "wav49": "audio/wav", "gsm": "audio/gsm", "ulaw": "audio/basic"}


class UnknownRecording(KeyError):
    pass


class RecordingRefused(ValueError):
    """Policy forbids it, or the recording is not in a state that allows the request."""


class RecordingService:
    def __init__(
        self,
        config: RecordingConfig,
        control: CallControl,
        clock: Clock,
        bus: Bus,
        store: RecordingStore,
        mixmonitor: MixMonitorRecorder | None = None,
    ) -> None:
        self.config = config
        self._control = control
        self._mixmonitor = mixmonitor  # channels outside our Stasis app ("mixmonitor:<channel name>" targets)
        # one stop per recording, however many ask (the API, the call's end, the channel's hang-up): each waits
        # for the same one, so the file is read and ``recording.ready`` published once
        self._stopping: dict[str, asyncio.Task[RecordingMeta]] = {}
        if mixmonitor is not None:
            mixmonitor.gone = self._channel_gone
        self._clock = clock
        self._bus = bus
        self.store = store
        self._counter: dict[str, int] = defaultdict(int)
        self._live_by_bridge: dict[str, str] = {}
        # recordings this daemon runs, as last saved: pause/resume/stop read them here, not from the database
        self._live: dict[str, RecordingMeta] = {}
        self._live_calls: Counter[str] = Counter()  # live recordings per call (a scan of ``_live`` was O(calls))

    def path_for(self, name: str) -> str:
        return str(Path(self.config.directory) / f"{name}.{self.config.format}")

    async def _publish(self, type_: str, meta: RecordingMeta) -> None:
        await self._bus.publish(new_event(type_, meta.call_id, meta.to_json(), self._clock.now()))

    # ---- the ACD's hook -----------------------------------------------------------------------------------
    def policy(self, queue: str | None, override: str | None = None) -> Policy:
        """The call's own policy when it has one (a dialer campaign's), else its queue's."""
        return Policy(override) if override is not None else self.config.policy(queue)

    async def bridged(
        self, call_id: str, bridge_id: str, queue: str, agent_id: str, policy: str | None = None
    ) -> str | None:
        """A conversation was bridged: record it if its policy (the call's own, else the queue's) says so."""
        if self.policy(queue, policy) is not Policy.ALWAYS:
            return None
        meta = await self.start(
            call_id, f"bridge:{bridge_id}", queue=queue, agent=agent_id, by="policy", policy=policy
        )
        return meta.name

    async def finished(self, name: str) -> None:
        await self.stop(name)

    # ---- requests ----------------------------------------------------------------------------------------
    async def start(
        self,
        call_id: str,
        target: str,
        *,
        queue: str | None = None,
        agent: str | None = None,
        by: str = "api",
        policy: str | None = None,
    ) -> RecordingMeta:
        if self.policy(queue, policy) is Policy.NEVER:
            what = "this call" if policy is not None else f"queue {queue!r}"
            raise RecordingRefused(f"{what} is never recorded")
        kind, _, target_id = target.partition(":")
        if kind not in ("bridge", "channel", "mixmonitor") or not target_id:
            raise RecordingRefused(
                f"bad recording target {target!r} (bridge:<id>, channel:<id> or mixmonitor:<channel name>)"
            )
        self._counter[call_id] += 1
        n = max(self._counter[call_id], await self.store.count_for_call(call_id) + 1)
        self._counter[call_id] = n
        name = f"{call_id}-{n}"
        if kind == "mixmonitor":
            await self._mix(name).start(target_id, self.path_for(name), name)
        else:  # ARI: a bridge or a channel of our Stasis app
            await self._control.record(target_id, name, fmt=self.config.format, bridge=kind == "bridge")
        meta = RecordingMeta(
            name, call_id, queue, agent, target, self.path_for(name), self.config.format, self._clock.now()
        )
        await self._save(meta)
        if kind == "bridge":
            self._live_by_bridge[target_id] = name
        log.info("recording started", call_id=call_id, recording=name, by=by)
        await self._publish("recording.started", meta)
        return meta

    async def _save(self, meta: RecordingMeta) -> None:
        await self.store.save(meta)
        if meta.state in (RecState.RECORDING, RecState.PAUSED):
            self._remember(meta)
            return
        if self._live.pop(meta.name, None) is not None:
            self._live_calls[meta.call_id] -= 1
        # forget the call's bookkeeping once none of its recordings runs here (one entry per call forever
        # otherwise); numbering stays right: ``start`` also counts the call's recordings in the store
        kind, _, target_id = meta.target.partition(":")
        if kind == "bridge" and self._live_by_bridge.get(target_id) == meta.name:
            del self._live_by_bridge[target_id]
        if self._live_calls[meta.call_id] <= 0:
            del self._live_calls[meta.call_id]
            self._counter.pop(meta.call_id, None)

    def _remember(self, meta: RecordingMeta) -> None:
        if meta.name not in self._live:
            self._live_calls[meta.call_id] += 1
        self._live[meta.name] = meta

    def _channel_gone(self, name: str) -> None:
        """A MixMonitor recording ended with its channel: read its file (in the background)."""
        self._stop_task(name)

    async def close(self) -> None:
        """Let the recordings being stopped (those that ended with their channel above all) finish reading their
        files (bounded by ``wait_for_file``), so that none is left ``recording`` by a shutdown."""
        if self._stopping:
            await asyncio.wait(set(self._stopping.values()), timeout=self.config.wait_for_file + 1.0)

    async def recover(self, control_up: asyncio.Event | None = None) -> int:
        """Take over the recordings an earlier run of the daemon left ``recording`` or ``paused`` (a restart,
        a crash); returns how many. A MixMonitor recording goes on with its channel and ends at its hang-up
        (now, if the channel hung up meanwhile: ``resync``). An ARI recording goes on while the PBX records
        it — the conversation of a killed daemon goes on (``control/orphans.py``), and its bridge is destroyed
        when a party hangs up, which ends the recording — and is looked at every ``FOLLOW`` s once our Stasis
        app is back on the PBX. Either way, once it ended its file is read and ``recording.ready`` published;
        before, such a row stayed ``recording`` for ever, out of the retention purge's reach."""
        left = [m for m in await self.store.live() if m.name not in self._live]
        followed, ended = [], []  # ARI ones; MixMonitor ones with no AMI link to follow them (the file alone)
        for meta in left:
            self._remember(meta)
            channel = self._mix_channel(meta)
            if channel is None:
                followed.append(meta.name)
            elif self._mixmonitor is None:
                ended.append(meta.name)
            else:
                self._mixmonitor.track(channel, meta.name, meta.started_at)
        if left:
            log.warning("recordings left running by an earlier run taken over", count=len(left))
        if self._mixmonitor is not None and len(followed) + len(ended) < len(left):
            await self._mixmonitor.resync()
        await asyncio.gather(*map(self.stop, ended), *(self._follow(n, control_up) for n in followed))
        return len(left)

    async def _follow(self, name: str, control_up: asyncio.Event | None) -> None:
        """Until the PBX no longer records ``name`` (or it was stopped here meanwhile); then stop it here."""
        while name in self._live and name not in self._stopping:
            try:
                if not await self._control.recording_live(name):
                    break
            except ControlError:  # the link: look again
                if control_up is not None:
                    await control_up.wait()
            await self._clock.sleep(FOLLOW)
        await self.stop(name)

    def _mix(self, name: str) -> MixMonitorRecorder:
        if self._mixmonitor is None:
            raise RecordingRefused(f"recording {name}: MixMonitor needs the AMI link, which is not configured")
        return self._mixmonitor

    @staticmethod
    def _mix_channel(meta: RecordingMeta) -> str | None:
        """The channel a MixMonitor recording runs on; None for an ARI recording."""
        kind, _, target_id = meta.target.partition(":")
        return target_id if kind == "mixmonitor" else None

    async def _pause(self, meta: RecordingMeta, on: bool) -> None:
        if (channel := self._mix_channel(meta)) is not None:
            await self._mix(meta.name).mute(channel, on)
        elif on:
            await self._control.pause_recording(meta.name)
        else:
            await self._control.resume_recording(meta.name)

    async def _get(self, name: str) -> RecordingMeta:
        meta = self._live.get(name) or await self.store.get(name)
        if meta is None:
            raise UnknownRecording(name)
        return meta

    async def _running(self, name: str) -> RecordingMeta:
        if name in self._stopping:
            raise RecordingRefused(f"recording {name} is stopping")
        return await self._get(name)

    async def pause(self, name: str, by: str) -> RecordingMeta:
        meta = await self._running(name)
        if meta.state is not RecState.RECORDING:
            raise RecordingRefused(f"recording {name} is {meta.state.value}, not recording")
        await self._pause(meta, True)
        meta = meta.with_(state=RecState.PAUSED, pauses=(*meta.pauses, Pause(by, self._clock.now())))
        await self._save(meta)
        await self._publish("recording.paused", meta)
        return meta

    async def resume(self, name: str, by: str) -> RecordingMeta:
        meta = await self._running(name)
        if meta.state is not RecState.PAUSED:
            raise RecordingRefused(f"recording {name} is {meta.state.value}, not paused")
        await self._pause(meta, False)
        last = meta.pauses[-1]
        pauses = (*meta.pauses[:-1], Pause(last.by, last.at, self._clock.now(), by))
        meta = meta.with_(state=RecState.RECORDING, pauses=pauses)
        await self._save(meta)
        await self._publish("recording.resumed", meta)
        return meta

    async def stop(self, name: str) -> RecordingMeta:
        """Stop the recording and read its file; a second request while that runs waits for the same end. The
        stop runs on if the one who asked is cancelled (the file is read all the same)."""
        return await asyncio.shield(self._stop_task(name))

    def _stop_task(self, name: str) -> asyncio.Task[RecordingMeta]:
        task = self._stopping.get(name)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._stop(name), name=f"cti:recording-stop:{name}")
            self._stopping[name] = task
            task.add_done_callback(partial(self._stopped, name))
        return task

    def _stopped(self, name: str, task: asyncio.Task[RecordingMeta]) -> None:
        if self._stopping.get(name) is task:
            del self._stopping[name]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("recording not stopped", recording=name, error=str(exc))

    async def _stop(self, name: str) -> RecordingMeta:
        meta = await self._get(name)
        if meta.state in (RecState.DONE, RecState.FAILED, RecState.PURGED):
            return meta
        with contextlib.suppress(ControlError):  # the bridge (channel) may already be gone: that ends it too
            if (channel := self._mix_channel(meta)) is not None:
                if self._mixmonitor is not None:  # without the AMI link (a restart without it): the file alone
                    await self._mixmonitor.stop(channel)
            else:
                await self._control.stop_recording(name)
        now = self._clock.now()
        pauses = meta.pauses
        if pauses and pauses[-1].resumed_at is None:
            pauses = (*pauses[:-1], Pause(pauses[-1].by, pauses[-1].at, now, "stop"))
        facts = await self._wait_for_file(meta.path)
        paused = sum((p.resumed_at or now) - p.at for p in pauses)
        if facts is None:
            meta = meta.with_(
                state=RecState.FAILED,
                ended_at=now,
                pauses=pauses,
                duration=max(0.0, now - meta.started_at - paused),
            )
        else:
            size, seconds = facts
            duration = seconds if seconds is not None else max(0.0, now - meta.started_at - paused)
            meta = meta.with_(state=RecState.DONE, ended_at=now, pauses=pauses, size=size, duration=duration)
        await self._save(meta)
        await self._publish("recording.ready", meta)
        return meta

    async def _wait_for_file(self, path: str) -> tuple[int, float | None] | None:
        """The file's facts once it is there and complete (a WAV whose header has its length, or the same size
        on two looks); None if it never came. Looks back off (0.1 s doubling to 1 s): each look is a thread
        hop, and at 100 calls/s a fixed 0.1 s poll on late files was a large share of the daemon's CPU."""
        waited, last, pause = 0.0, None, 0.1
        while True:
            facts = await file_facts(path)
            if facts is not None and facts[0] > 0 and (facts[2] or facts == last):
                return facts[0], facts[1]
            if waited >= self.config.wait_for_file:
                return (facts[0], facts[1]) if facts is not None and facts[0] > 0 else None
            last = facts
            pause = min(pause, max(0.0, self.config.wait_for_file - waited)) or 0.1
            await self._clock.sleep(pause)
            waited += pause
            pause = min(1.0, pause * 2)

    async def on_call(self, call_id: str, action: str, by: str) -> RecordingMeta:
        """``pause``, ``resume`` or ``stop`` the call's live recording (its latest, if several)."""
        live = [m for m in await self.store.for_call(call_id) if m.state in (RecState.RECORDING, RecState.PAUSED)]
        if not live:
            raise RecordingRefused(f"call {call_id} has no live recording")
        name = live[-1].name
        if action == "pause":
            return await self.pause(name, by)
        if action == "resume":
            return await self.resume(name, by)
        if action == "stop":
            return await self.stop(name)
        raise RecordingRefused(f"unknown recording action {action!r}")

    async def recording_meta(self, name: str) -> dict[str, object] | None:
        """For the API's download: the row plus the file's content type (None for unknown or purged)."""
        meta = await self.store.get(name)
        if meta is None or meta.state is RecState.PURGED:
            return None
        return self._with_type(meta)

    async def call_recordings(self, call_id: str) -> list[dict[str, object]]:
        """For the API: the call's recordings as they are now (the live ones as this daemon last saved them)."""
        return [self._with_type(self._live.get(m.name, m)) for m in await self.store.for_call(call_id)]

    @staticmethod
    def _with_type(meta: RecordingMeta) -> dict[str, object]:
        return {**meta.to_json(), "content_type": CONTENT_TYPES.get(meta.format, "application/octet-stream")}

    async def by_bridge(self, bridge_id: str) -> RecordingMeta | None:
        name = self._live_by_bridge.get(bridge_id)
        return await self.store.get(name) if name else None
