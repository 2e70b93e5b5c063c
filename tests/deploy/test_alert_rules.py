"""``docker/prometheus/ctiserver-alerts.yml`` names only what the daemon exports: every ``ctiserver_*`` metric of
every rule is on the running daemon's ``/metrics`` (scraped over HTTP: the whole daemon against the simulator,
an ACD queue and a dialler campaign configured), with every label its matchers and templates use; each rule has
the fields Prometheus requires."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import yaml

from ctiserver.app import COMPONENTS
from ctiserver.dialer.service import DialerService
from ctiserver.events.log import EventLog
from ctiserver.sim.simulator import Simulator
from tests.api.harness import daemon
from tests.api.test_live_metrics import SCRIPT
from tests.dialer.wire import window_around_now
from tests.servers.redis import wait_for

RULES = Path(__file__).resolve().parents[2] / "docker" / "prometheus" / "ctiserver-alerts.yml"


def _exported(text: str) -> dict[str, set[str]]:
    """metric (or family) name → the label names seen on its samples."""
    out: dict[str, set[str]] = {}
    for line in text.splitlines():
        if m := re.match(r"# TYPE (\w+) ", line):
            out.setdefault(m.group(1), set())
        elif m := re.match(r"(\w+)(?:\{([^}]*)\})? ", line):
            labels = set(re.findall(r'(\w+)="', m.group(2) or ""))
            for name in {m.group(1), re.sub(r"_(total|created|count|sum|bucket)$", "", m.group(1))}:
                out.setdefault(name, set()).update(labels)
    return out


async def test_every_rule_names_exported_metrics_and_labels(tmp_path: Path) -> None:
    rules = [r for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    assert len(rules) >= 5
    for r in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(r), r
        assert r["labels"]["severity"] in ("warning", "critical") and r["annotations"]["summary"]
    (tmp_path / "ivr").mkdir()
    (tmp_path / "ivr" / "to-support.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path / "ivr")},
        "acd": {"agents": [{"id": "1001", "device": "PJSIP/1001", "login": True}], "queues": [{"name": "support"}]},
        "dialer": {"campaigns": [{"name": "spring", "windows": window_around_now().model_dump(mode="json")}]},
    }
    async with daemon(tmp_path, components=COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        sim.agent("1001", answer_after=0.2)
        call = sim.place_call(from_number="+48221234567", to="100", hangup_after=30.0)
        log = d.ctx.require(EventLog)
        await wait_for(lambda: any(e.type == "agent.answered" for e in log._ring))  # a service level to show
        async with http.post(d.url + "/api/dialer/campaigns/spring/start", headers=d.auth("supervisor")) as resp:
            assert resp.status == 200  # running, held back: the simulator lacks the dialler's dialplan
        await wait_for(lambda: d.ctx.require(DialerService).runners["spring"].lines.blocked() is not None)
        async with http.get(d.url + "/metrics", headers=d.auth("monitor")) as resp:
            exported = _exported(await resp.text())
        call.hangup()
    for r in rules:
        for metric, matchers in re.findall(r"(ctiserver_\w+)(\{[^}]*\})?", r["expr"]):
            assert metric in exported, (r["alert"], metric)
            for label in re.findall(r"(\w+)\s*=~?", matchers):
                assert label in exported[metric], (r["alert"], metric, label)
        used = set(re.findall(r"\$labels\.(\w+)", yaml.safe_dump(r["annotations"])))
        names = re.findall(r"(ctiserver_\w+)", r["expr"])
        assert all(any(label in exported[m] for m in names) for label in used), (r["alert"], used)
