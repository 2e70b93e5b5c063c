"""File facts, computed off the event loop: size and audio duration of a recording."""

from __future__ import annotations

import asyncio
import contextlib
import wave
from pathlib import Path


def _facts(path: str) -> tuple[int, float | None, bool] | None:
    p = Path(path)
    if not p.is_file():
        return None
    size = p.stat().st_size
    duration: float | None = None
    complete = False
    if p.suffix.lower() == ".wav":
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(p), "rb") as w:
            rate = w.getframerate()
            duration = w.getnframes() / rate if rate else None
            data = w.getnframes() * w.getsampwidth() * w.getnchannels()
            complete = data > 0 and size >= data + 44  # the header is patched with the length when closed
    return size, duration, complete


async def file_facts(path: str) -> tuple[int, float | None, bool] | None:
    """(bytes, seconds, known complete) of a recording file, or None when the file is not there."""
    return await asyncio.to_thread(_facts, path)


def _remove(path: str) -> bool:
    try:
        Path(path).unlink()
        return True
    except FileNotFoundError:
        return False


async def remove_file(path: str) -> bool:
    return await asyncio.to_thread(_remove, path)
