"""Media on channels and bridges: playbacks that last as long as the sound, music on hold, and recordings that
write a real WAV file (8 kHz mono 16-bit silence) of the recorded duration."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from ctiserver.sim.model import Channel, LiveRecording, Playback

if TYPE_CHECKING:
    from ctiserver.sim.engine import Engine


def sound_seconds(engine: Engine, media_uri: str) -> float:
    name = media_uri.split(":", 1)[-1]
    cfg = engine.config
    if cfg.sounds_dir:
        path = Path(cfg.sounds_dir) / f"{name}.wav"
        if path.exists():
            try:
                with wave.open(str(path), "rb") as w:
                    return w.getnframes() / float(w.getframerate())
            except (wave.Error, OSError):
                pass
    return cfg.sounds.get(name, cfg.default_sound_seconds)


def _target_apps(engine: Engine, target_uri: str) -> set[str]:
    kind, _, tid = target_uri.partition(":")
    if kind == "channel":
        ch = engine.channels.get(tid)
        return set(ch.subscribed) if ch else set()
    br = engine.bridges.get(tid)
    return set(br.subscribed) if br else set()


def play(
    engine: Engine, target_uri: str, media: list[str], playback_id: str, language: str = "en"
) -> Playback:
    pb = Playback(id=playback_id, media_uri=",".join(media), target_uri=target_uri, language=language)
    engine.playbacks[pb.id] = pb
    kind, _, tid = target_uri.partition(":")
    ch = engine.channels.get(tid) if kind == "channel" else None
    prev = ch.tags.get("playback") if ch else None
    if ch is not None:
        ch.tags["playback"] = pb
    pb.task = engine.spawn(_run(engine, pb, media, ch, prev), name=f"sim:playback:{pb.id}")
    return pb


async def _run(
    engine: Engine, pb: Playback, media: list[str], ch: Channel | None, prev: Playback | None
) -> None:
    if prev is not None and prev.task is not None and not prev.task.done():
        await asyncio.wait({prev.task})
    if pb.state != "queued":
        return
    pb.state = "playing"
    apps = _target_apps(engine, pb.target_uri)
    if ch is not None:
        name = media[0].split(":", 1)[-1]
        engine.cel.emit("STREAM_BEGIN", ch, extra=f'{{"sound":"{name}","format":"slin","language":"en"}}')
    engine.hub.ari("PlaybackStarted", apps, [("playback", pb.to_json())])
    try:
        for uri in media:
            await engine.clock.sleep(sound_seconds(engine, uri))
    except asyncio.CancelledError:
        return
    finish(engine, pb)


def finish(engine: Engine, pb: Playback, state: str = "done") -> None:
    if pb.state in ("done", "failed", "cancelled", "stopped"):
        return
    was_playing = pb.state == "playing"
    pb.state = state
    engine.playbacks.pop(pb.id, None)
    kind, _, tid = pb.target_uri.partition(":")
    ch = engine.channels.get(tid) if kind == "channel" else None
    if ch is not None and ch.tags.get("playback") is pb:
        ch.tags.pop("playback", None)
    if not was_playing:
        return
    if ch is not None:
        engine.cel.emit("STREAM_END", ch)
    engine.hub.ari("PlaybackFinished", _target_apps(engine, pb.target_uri), [("playback", pb.to_json())])


def stop_playback(engine: Engine, pb: Playback) -> None:
    task = pb.task
    finish(engine, pb, "done" if pb.state == "playing" else "cancelled")
    if task is not None and task is not asyncio.current_task():
        task.cancel()


def moh_start(engine: Engine, ch: Channel, klass: str = "default") -> None:
    if ch.moh_class is not None:
        return
    ch.moh_class = klass or "default"
    engine.ami_chan("MusicOnHoldStart", ch, [("Class", ch.moh_class)])
    engine.cel.emit("STREAM_BEGIN", ch, extra=f'{{"class":"{ch.moh_class}"}}')


def moh_stop(engine: Engine, ch: Channel) -> None:
    if ch.moh_class is None:
        return
    ch.moh_class = None
    engine.cel.emit("STREAM_END", ch)
    engine.ami_chan("MusicOnHoldStop", ch)


def stop_channel_media(engine: Engine, ch: Channel) -> None:
    pb = ch.tags.get("playback")
    for p in [p for p in engine.playbacks.values() if p.target_uri == f"channel:{ch.id}"]:
        stop_playback(engine, p)
    if pb is not None:
        stop_playback(engine, pb)
    if ch.moh_class is not None:
        ch.moh_class = None  # the channel is going away: no MusicOnHoldStop (as Asterisk)
    for rec in [r for r in engine.recordings.values() if r.target_uri == f"channel:{ch.id}"]:
        recording_stop(engine, rec)


def record(engine: Engine, target_uri: str, name: str, fmt: str) -> LiveRecording:
    path = Path(engine.config.recordings_dir) / f"{name}.{fmt}"
    rec = LiveRecording(
        name=name, format=fmt, target_uri=target_uri, path=str(path), started=engine.clock.now()
    )
    engine.recordings[name] = rec
    kind, _, tid = target_uri.partition(":")
    if kind == "bridge" and tid in engine.bridges:
        engine.bridges[tid].recording = rec
    rec.state = "recording"
    engine.hub.ari("RecordingStarted", _target_apps(engine, target_uri), [("recording", rec.to_json())])
    return rec


def recording_duration(engine: Engine, rec: LiveRecording) -> float:
    paused = rec.paused_total + (engine.clock.now() - rec.paused_at if rec.paused_at is not None else 0.0)
    return max(0.0, engine.clock.now() - rec.started - paused)


def recording_stop(engine: Engine, rec: LiveRecording, state: str = "done") -> None:
    if rec.state in ("done", "failed", "canceled"):
        return
    seconds = recording_duration(engine, rec)
    apps = _target_apps(engine, rec.target_uri)
    rec.state = state
    engine.recordings.pop(rec.name, None)
    kind, _, tid = rec.target_uri.partition(":")
    if kind == "bridge" and tid in engine.bridges and engine.bridges[tid].recording is rec:
        engine.bridges[tid].recording = None
    if state == "done":
        engine.stored[rec.name] = (rec.format, rec.path)
        task = engine.spawn(asyncio.to_thread(write_wav, rec.path, seconds), name=f"sim:wav:{rec.name}")
        engine.wav_tasks[rec.name] = task
        task.add_done_callback(lambda t: _written(engine, rec.name, t))
    engine.hub.ari("RecordingFinished", apps, [("recording", rec.to_json(duration=int(seconds)))])


def _written(engine: Engine, name: str, task: asyncio.Task[None]) -> None:
    if engine.wav_tasks.get(name) is task:  # not one of a later recording of the same name
        del engine.wav_tasks[name]


def write_wav(path: str, seconds: float, rate: int = 8000) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
