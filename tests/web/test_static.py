"""The console's static files: every page's assets exist, every text is translated in all four languages."""

from __future__ import annotations

import json
import re

import pytest

from ctiserver.web import PAGES, STATIC

LANGS = ("en", "ru", "uk", "pl")
DYNAMIC_PREFIXES = ("state.", "reason.", "dispo.", "live.", "nav.")


# the plural categories of each language (CLDR, what ``Intl.PluralRules`` answers in the browser)
CATEGORIES = {"en": {"one", "other"}, "ru": {"one", "few", "many", "other"}, "uk": {"one", "few", "many", "other"}}
CATEGORIES["pl"] = CATEGORIES["ru"]
Text = str | dict[str, str]


def _dict(code: str) -> dict[str, Text]:
    return json.loads((STATIC / "i18n" / f"{code}.json").read_text(encoding="utf-8"))


def _forms(code: str, key: str, value: Text) -> list[str]:
    """A text, or each of its plural forms (``{"by": "n", "one": …, "other": …}``: every category of the language,
    each naming ``{n}``)."""
    if isinstance(value, str):
        return [value]
    forms = {k: v for k, v in value.items() if k != "by"}
    assert set(forms) == CATEGORIES[code], (code, key, sorted(forms))
    assert all(f"{{{value['by']}}}" in text for text in forms.values()), (code, key)
    return list(forms.values())


def _placeholders(code: str, key: str, value: Text) -> set[str]:
    found = {frozenset(re.findall(r"\{\w+\}", text)) for text in _forms(code, key, value)}
    assert len(found) == 1, (code, key, found)  # every plural form has the same
    return set(next(iter(found)))


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
    assert all(text.strip() for key, value in other.items() for text in _forms(code, key, value))
    for key, value in en.items():  # placeholders survive translation
        assert _placeholders(code, key, other[key]) == _placeholders("en", key, value), key


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
    assert re.search("[а-яё]", str(ru["agent.ready"]).lower())
    assert re.search("[іїєґа-я]", str(uk["pop.history"]).lower())
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
