"""The console's static files: every page's assets exist, every text is translated in all four languages."""

from __future__ import annotations

import json
import re

import pytest

from ctiserver.web import PAGES, STATIC

LANGS = ("en", "ru", "uk", "pl")
DYNAMIC_PREFIXES = ("state.", "reason.", "dispo.", "live.", "nav.")


def _dict(code: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{code}.json").read_text(encoding="utf-8"))


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for page in PAGES:
        html = (STATIC / page).read_text("utf-8")
        keys |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([^"]+)"', html))
    for js in (STATIC / "js").glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-zA-Z]+\.[a-zA-Z0-9_.]+)"', js.read_text("utf-8")))
    return keys


@pytest.mark.parametrize("code", LANGS)
def test_every_language_has_the_same_keys_and_no_empty_text(code: str) -> None:
    en = _dict("en")
    other = _dict(code)
    assert set(other) == set(en)
    assert all(isinstance(v, str) and v.strip() for v in other.values())
    for key, text in en.items():  # placeholders survive translation
        assert set(re.findall(r"\{\w+\}", other[key])) == set(re.findall(r"\{\w+\}", text)), key


def test_every_key_the_pages_use_exists() -> None:
    en = _dict("en")
    missing = sorted(k for k in _used_keys() if k not in en)
    assert missing == []
    for prefix in DYNAMIC_PREFIXES:
        assert any(k.startswith(prefix) for k in en), prefix
    for state in ("logged_out", "ready", "not_ready", "reserved", "ringing", "on_call", "wrap_up"):
        assert f"state.{state}" in en


def test_translations_are_really_translated() -> None:
    en, ru, uk, pl = (_dict(c) for c in LANGS)
    assert re.search("[а-яё]", ru["agent.ready"].lower())
    assert re.search("[іїєґа-я]", uk["pop.history"].lower())
    assert ru["pop.history"] != uk["pop.history"]
    assert pl["agent.ready"] != en["agent.ready"]


@pytest.mark.parametrize("page", PAGES)
def test_page_assets_exist(page: str) -> None:
    html = (STATIC / page).read_text("utf-8")
    refs = re.findall(r'(?:src|href)="([^"#:]+)"', html)
    assert refs
    for ref in refs:
        assert (STATIC / ref).is_file(), f"{page} references missing {ref}"


def test_js_imports_resolve() -> None:
    for js in (STATIC / "js").glob("*.js"):
        for ref in re.findall(r'from "(\./[^"]+)"', js.read_text("utf-8")):
            assert (js.parent / ref).is_file(), f"{js.name} imports missing {ref}"


def test_mermaid_is_vendored_with_its_licence() -> None:
    vendor = STATIC / "vendor" / "mermaid"
    assert (vendor / "mermaid.min.js").stat().st_size > 1_000_000
    assert "MIT" in (vendor / "LICENSE.txt").read_text("utf-8")
