"""File facts, computed off the event loop: size and audio duration of a recording."""

from __future__ import annotations

import asyncio
import contextlib
import wave
from pathlib import Path


def _facts(path: str) -> tuple[int, float | None] | None:
    p = Path(path)
    if not p.is_file():
        return None
    size = p.stat().st_size
    duration: float | None = None
    if p.suffix.lower() == ".wav":
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(p), "rb") as w:
            rate = w.getframerate()
            duration = w.getnframes() / rate if rate else None
    return size, duration


async def file_facts(path: str) -> tuple[int, float | None] | None:
    """(bytes, seconds) of a finished recording, or None when the file is not there."""
    return await asyncio.to_thread(_facts, path)


def _remove(path: str) -> bool:
    try:
        Path(path).unlink()
        return True
    except FileNotFoundError:
        return False


async def remove_file(path: str) -> bool:
    return await asyncio.to_thread(_remove, path)
