"""The admin view of the registry (what /api/ivr/* serves): list, get, validate, put."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctiserver.clock import ManualClock
from ctiserver.ivr.admin import IvrAdmin
from ctiserver.ivr.diagnostics import ScriptInvalid
from ctiserver.ivr.registry import ScriptRegistry
from tests.ivr.util import EXAMPLES

NEW = """script: promo
dids: ["555"]
nodes:
  hi: {type: play, sounds: [promo], next: bye}
  bye: {type: hangup}
"""


async def test_admin_list_get_validate_put(tmp_path: Path) -> None:
    for f in EXAMPLES.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    reg = ScriptRegistry(tmp_path, ManualClock())
    await reg.reload()
    admin = IvrAdmin(reg)
    names = [s["name"] for s in admin.list_scripts()]
    assert names == ["account", "csat", "main-en", "main-ru", "optout"]
    main = admin.get_script("main-en")
    assert main is not None and main["dids"] == ["100"] and "main_menu" in [n["name"] for n in main["nodes"]]
    assert main["source"] == (tmp_path / "main-en.yaml").read_text()
    assert admin.get_script("nope") is None
    assert admin.validate_script(NEW) == []
    bad = admin.validate_script(NEW.replace("next: bye", "next: by"))
    assert [(p["line"], p["column"], p["path"]) for p in bad] == [(4, 43, "nodes.hi"), (5, 3, "nodes.bye")]
    clash = admin.validate_script(NEW.replace('"555"', '"100"'))
    assert "already bound to script 'main-en'" in clash[0]["message"]
    saved = await admin.put_script("promo", NEW)
    assert saved["version"] == reg.get("promo").version  # type: ignore[union-attr]
    assert reg.for_did("555") is not None and (tmp_path / "promo.yaml").exists()
    with pytest.raises(ScriptInvalid) as err:
        await admin.put_script("other-name", NEW)
    assert isinstance(err.value, ValueError) and "does not match 'other-name'" in str(err.value)
