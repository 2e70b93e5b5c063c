"""Validate a script text or a folder of scripts (schema, semantic checks, cross-script DIDs)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from ctiserver.ivr.checks import check
from ctiserver.ivr.diagnostics import Diagnostic
from ctiserver.ivr.script import Script, parse

SUFFIXES = (".yaml", ".yml")


def validate_text(
    text: str,
    file: str,
    *,
    sound_dirs: Iterable[str | Path] = (),
    known_scripts: Collection[str] | None = None,
    known_queues: Collection[str] | None = None,
) -> tuple[Script | None, list[Diagnostic]]:
    """Return the script (None when there is any error) and every diagnostic."""
    script, diags = parse(text, file)
    diags = sorted(diags, key=lambda d: (d.line, d.column))
    if script is None:
        return None, diags
    diags = diags + check(
        script, sound_dirs=sound_dirs, known_scripts=known_scripts, known_queues=known_queues
    )
    if any(d.is_error for d in diags):
        return None, diags
    return script, diags


def script_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file()))
        else:
            out.append(p)
    return out


def validate_files(
    paths: Iterable[str | Path],
    *,
    sound_dirs: Iterable[str | Path] = (),
    known_queues: Collection[str] | None = None,
) -> tuple[dict[str, Script], list[Diagnostic]]:
    """Validate many files together: sub-script names and DID bindings are checked across them."""
    files = script_files(paths)
    texts: dict[Path, str] = {}
    diags: list[Diagnostic] = []
    for f in files:
        try:
            texts[f] = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diags.append(Diagnostic(str(f), 1, 1, f"cannot read: {exc}"))
    names = set()
    for f, text in texts.items():
        first, _ = parse(text, str(f))
        if first is not None:
            names.add(first.name)
    scripts: dict[str, Script] = {}
    owners: dict[str, Script] = {}
    dirs = list(sound_dirs)
    for f, text in texts.items():
        script, more = validate_text(
            text, str(f), sound_dirs=dirs, known_scripts=names, known_queues=known_queues
        )
        diags.extend(more)
        if script is None:
            continue
        if script.name in scripts:
            pos = script.located.pos(("script",))
            diags.append(
                Diagnostic(
                    str(f),
                    pos.line,
                    pos.column,
                    f"script name {script.name!r} is already used by {scripts[script.name].file}",
                )
            )
            continue
        for i, did in enumerate(script.dids):
            other = owners.get(did)
            if other is not None:
                pos = script.located.pos(("dids", i))
                diags.append(
                    Diagnostic(
                        str(f),
                        pos.line,
                        pos.column,
                        f"DID {did!r} is already bound to script {other.name!r} ({other.file})",
                    )
                )
            owners[did] = script
        scripts[script.name] = script
    return scripts, diags
