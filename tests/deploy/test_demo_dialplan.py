"""The demo simulator's copy of the dialler's and the outbound contexts must stay what ``ctiserver dialplan
render`` writes for Asterisk (the demo runs campaigns and call-backs through them, out through the simulator's
trunk)."""

from __future__ import annotations

from pathlib import Path

import yaml

import ctiserver.web
from ctiserver.sim.config import SimConfig
from tests.dialer.wire import rendered_dialer_plan

DEMO = Path(ctiserver.web.__file__).parent / "demo" / "simulator.yaml"


def test_demo_dialler_contexts_are_the_rendered_ones() -> None:
    demo = SimConfig.model_validate(yaml.safe_load(DEMO.read_text(encoding="utf-8"))).dialplan
    rendered = rendered_dialer_plan(stasis=True)
    for context in ("ctiserver-dialer", "ctiserver-amd", "ctiserver-dialer-abandon", "ctiserver-outbound"):
        assert demo[context] == rendered[context], context
