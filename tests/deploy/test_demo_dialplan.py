"""The demo's simulated PBX runs exactly the dialplan ``ctiserver dialplan render`` writes for the demo's
configuration (its DIDs, the agents' context, the outbound, dialler, AMD and supervisor contexts), read as
Asterisk's pbx_config reads it — so the daemon's dialplan check finds nothing missing or stale in the demo."""

from __future__ import annotations

from pathlib import Path

from ctiserver.cli.demo import demo_config
from ctiserver.cli.dialplan import render
from ctiserver.pbx.extensions_conf import parse
from ctiserver.sim.config import load_sim_config


def test_the_demo_simulator_runs_the_rendered_dialplan(tmp_path: Path) -> None:
    config = demo_config(tmp_path, 0)
    sim = load_sim_config(tmp_path / "simulator.yaml").dialplan
    rendered = parse(render(config))
    assert rendered.warnings == [] and "ctiserver-dialer" in rendered.contexts and "from-external" in rendered.contexts
    for context, extens in rendered.contexts.items():
        for exten in extens:
            want = [(p.app, p.data, p.label) for p in rendered.priorities(context, exten)]
            assert [(s.app, s.data, s.label) for s in sim[context][exten]] == want, (context, exten)
    assert sim["ctiserver-spy"]["_X."][6].label == "whisper"
