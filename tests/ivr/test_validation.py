"""Validation of a folder of broken scripts: every message checked with its line and column.

Each file in ``broken/`` ends with ``# expect: LINE:COL message`` lines (``# expect-warning:`` for warnings),
or ``# expect: nothing``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ctiserver.ivr.validate import validate_files, validate_text
from tests.ivr.util import EXAMPLES

BROKEN = Path(__file__).parent / "broken"
_EXPECT = re.compile(r"^# (expect|expect-warning): (?:nothing|(\d+):(\d+) (.*))$")


def _expected(path: Path) -> list[tuple[str, int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _EXPECT.match(line)
        if m and m.group(2):
            sev = "warning" if m.group(1) == "expect-warning" else "error"
            out.append((sev, int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


@pytest.fixture(scope="module")
def folder_diags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, int, int, str]]]:
    sounds = tmp_path_factory.mktemp("sounds")
    (sounds / "en").mkdir()
    for name in ("present", "hello", "menu", "info"):
        (sounds / "en" / f"{name}.wav").write_bytes(b"RIFF")
    _, diags = validate_files([BROKEN], sound_dirs=[sounds])
    out: dict[str, list[tuple[str, int, int, str]]] = {}
    for d in diags:
        out.setdefault(Path(d.file).name, []).append((d.severity.value, d.line, d.column, d.message))
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.yaml")))
def test_broken_script_messages(name: str, folder_diags: dict[str, list[tuple[str, int, int, str]]]) -> None:
    expected = _expected(BROKEN / name)
    got = folder_diags.get(name, [])
    assert [(s, line, col) for s, line, col, _ in got] == [(s, line, col) for s, line, col, _ in expected]
    for (_, _, _, message), (_, _, _, want) in zip(got, expected, strict=True):
        assert message.startswith(want), (message, want)


def test_diagnostic_format_is_file_line_column() -> None:
    _, diags = validate_files([BROKEN / "graph.yaml"])
    first = str(diags[0])
    assert re.match(r"^.*graph\.yaml:4:3: nodes\.a: loop that consumes no caller input", first)
    _, diags = validate_files([BROKEN / "sounds.yaml"], sound_dirs=[BROKEN])
    assert ": warning: nodes.a: sound file 'sound:present'" in str(diags[0])


def test_warnings_do_not_reject_a_script(tmp_path: Path) -> None:
    script, diags = validate_text((BROKEN / "sounds.yaml").read_text(), "sounds.yaml", sound_dirs=[tmp_path])
    assert script is not None and diags and not any(d.is_error for d in diags)


def test_examples_pass_check_and_cover_the_issue_list() -> None:
    scripts, diags = validate_files([EXAMPLES])
    assert [d for d in diags if d.is_error] == []
    assert {"main-en", "main-ru", "account", "csat"} <= set(scripts)
    kinds = {node.kind for s in scripts.values() for node in s.nodes.values()}
    assert {"hours", "collect", "lookup", "branch", "callback", "survey", "queue", "transfer", "sub"} <= kinds
    assert scripts["main-ru"].language == "ru" and scripts["main-en"].schedules["office"].holidays
