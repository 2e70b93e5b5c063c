"""Versioned scripts with hot reload.

A script's version is the hash of its text. A changed file is validated and, when valid, serves new calls at
once; calls already running keep the ``Script`` object they started with. An invalid change is refused (the
messages are logged and kept in ``errors``) and the previous version keeps serving.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ctiserver.clock import Clock
from ctiserver.ivr import expr
from ctiserver.ivr.diagnostics import Diagnostic, ScriptInvalid
from ctiserver.ivr.nodes import Branch
from ctiserver.ivr.script import Script, parse, version_of
from ctiserver.ivr.validate import SUFFIXES, validate_text
from ctiserver.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    name: str
    version: str
    file: str
    dids: tuple[str, ...]
    language: str
    description: str
    loaded_at: float


@dataclass(frozen=True, slots=True)
class ReloadReport:
    loaded: tuple[str, ...] = ()  # names (re)activated
    refused: tuple[str, ...] = ()  # files whose new text was refused
    removed: tuple[str, ...] = ()  # names whose file disappeared


def _read(path: Path) -> tuple[int, str]:
    st = path.stat()
    return st.st_mtime_ns, path.read_text(encoding="utf-8")


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _warm(script: Script) -> None:
    exprs = [c.when for node in script.nodes.values() if isinstance(node, Branch) for c in node.conditions]
    templates = [v for node in script.nodes.values() for _, v in (*node.templates(), *node.media())]
    expr.warm(exprs, templates)


class ScriptRegistry:
    def __init__(
        self,
        directory: str | Path,
        clock: Clock,
        *,
        sound_dirs: Iterable[str | Path] = (),
        known_queues: Iterable[str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.clock = clock
        self.sound_dirs = [Path(d) for d in sound_dirs]
        self.known_queues = set(known_queues) if known_queues is not None else None
        self._scripts: dict[str, Script] = {}
        self._loaded_at: dict[str, float] = {}
        self._by_file: dict[Path, str] = {}
        self._seen: dict[Path, int] = {}  # file -> mtime_ns last looked at
        self.errors: dict[str, list[Diagnostic]] = {}  # file -> messages of the refused text
        self.history: dict[str, list[str]] = {}  # name -> versions served, oldest first
        self._lock = asyncio.Lock()

    # ---- queries --------------------------------------------------------------------------------------
    def get(self, name: str) -> Script | None:
        return self._scripts.get(name)

    def for_did(self, did: str) -> Script | None:
        for script in self._scripts.values():
            if did in script.dids:
                return script
        return None

    def list_scripts(self) -> list[ScriptInfo]:
        return [
            ScriptInfo(s.name, s.version, s.file, s.dids, s.language, s.description, self._loaded_at[s.name])
            for s in sorted(self._scripts.values(), key=lambda s: s.name)
        ]

    # ---- validation / change --------------------------------------------------------------------------
    def validate(
        self, text: str, file: str = "<script>", *, also_known: set[str] | frozenset[str] = frozenset()
    ) -> tuple[Script | None, list[Diagnostic]]:
        """Validate ``text`` against the scripts being served (sub-script names, DIDs bound elsewhere);
        ``also_known``: names arriving in the same scan."""
        first, _ = parse(text, file)
        names = set(self._scripts) | set(also_known) | ({first.name} if first else set())
        script, diags = validate_text(
            text, file, sound_dirs=self.sound_dirs, known_scripts=names, known_queues=self.known_queues
        )
        if script is None:
            return None, diags
        for i, did in enumerate(script.dids):
            other = self.for_did(did)
            if other is not None and other.name != script.name:
                pos = script.located.pos(("dids", i))
                diags.append(
                    Diagnostic(
                        file,
                        pos.line,
                        pos.column,
                        f"DID {did!r} is already bound to script {other.name!r} ({other.file})",
                    )
                )
        if any(d.is_error for d in diags):
            return None, diags
        return script, diags

    async def put(self, name: str, text: str) -> Script:
        """Validate, write ``<dir>/<name>.yaml`` and serve it; raises ``ScriptInvalid`` (nothing changes)."""
        async with self._lock:
            current = self._scripts.get(name)
            path = Path(current.file) if current else self.directory / f"{name}.yaml"
            script, diags = await asyncio.to_thread(self.validate, text, str(path))
            if script is None:
                raise ScriptInvalid(diags)
            if script.name != name:
                pos = script.located.pos(("script",))
                raise ScriptInvalid(
                    [
                        Diagnostic(
                            str(path),
                            pos.line,
                            pos.column,
                            f"script name {script.name!r} does not match {name!r}",
                        )
                    ]
                )
            await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(_write, path, text)
            mtime, _ = await asyncio.to_thread(_read, path)
            self._seen[path] = mtime
            await asyncio.to_thread(_warm, script)
            self._activate(path, script)
            return script

    def _activate(self, path: Path, script: Script) -> None:
        old_name = self._by_file.get(path)
        if old_name is not None and old_name != script.name:
            self._scripts.pop(old_name, None)
        self._by_file[path] = script.name
        self._scripts[script.name] = script
        self._loaded_at[script.name] = self.clock.now()
        self.history.setdefault(script.name, []).append(script.version)
        self.errors.pop(str(path), None)
        log.info("ivr script serving", script=script.name, version=script.version, file=str(path))

    # ---- hot reload -----------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.rglob("*") if p.suffix in SUFFIXES and p.is_file())

    async def reload(self) -> ReloadReport:
        """Look at the folder once: activate valid changes, refuse invalid ones, drop deleted files."""
        async with self._lock:
            files = await asyncio.to_thread(self._files)
            loaded: list[str] = []
            refused: list[str] = []
            pending: list[tuple[Path, str]] = []
            for path in files:
                try:
                    mtime, text = await asyncio.to_thread(_read, path)
                except (OSError, UnicodeDecodeError) as exc:
                    log.warning("ivr script unreadable", file=str(path), error=str(exc))
                    continue
                if self._seen.get(path) == mtime:
                    continue
                self._seen[path] = mtime
                current = self._scripts.get(self._by_file.get(path, ""))
                if current is not None and current.version == version_of(text):
                    continue
                pending.append((path, text))
            # scripts in the same scan may refer to each other (sub-scripts): every name parsed is known
            parsed = [(await asyncio.to_thread(parse, text, str(path)))[0] for path, text in pending]
            arriving = {s.name for s in parsed if s is not None}
            for path, text in pending:  # parsing/validation is CPU work: off the event loop
                script, diags = await asyncio.to_thread(self.validate, text, str(path), also_known=arriving)
                if script is None:
                    self.errors[str(path)] = diags
                    refused.append(str(path))
                    log.warning(
                        "ivr script refused; the previous version keeps serving",
                        file=str(path),
                        errors=[str(d) for d in diags if d.is_error],
                    )
                    continue
                await asyncio.to_thread(_warm, script)
                self._activate(path, script)
                loaded.append(script.name)
            removed = []
            for path in [p for p in self._by_file if p not in set(files)]:
                name = self._by_file.pop(path)
                self._seen.pop(path, None)
                if self._scripts.pop(name, None) is not None:
                    removed.append(name)
                    log.info("ivr script removed", script=name, file=str(path))
            return ReloadReport(tuple(loaded), tuple(refused), tuple(removed))

    async def watch(self, interval: float = 2.0) -> None:
        """Poll the folder every ``interval`` seconds of the injected clock (a small background task)."""
        while True:
            await self.clock.sleep(interval)
            try:
                await self.reload()
            except Exception as exc:  # keep watching; one bad scan must not stop hot reload
                log.warning("ivr reload failed", error=str(exc))
