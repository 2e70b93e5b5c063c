"""docker/: the compose file is complete and safe (no inline secrets, loopback services, mounts that
exist), and the configuration it ships (and the demo's) validates with every area's own model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctiserver.config import load_config
from tests.conftest import ROOT

DOCKER = ROOT / "docker"


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8")))


def test_compose_has_the_four_services_on_host_network() -> None:
    services = _compose()["services"]
    assert set(services) == {"asterisk", "redis", "postgres", "ctiserver"}
    for name, svc in services.items():
        assert svc.get("network_mode") == "host", name
        assert "ports" not in svc, f"{name}: host networking publishes nothing"
    deps = services["ctiserver"]["depends_on"]
    assert all(deps[s]["condition"] == "service_healthy" for s in ("asterisk", "redis", "postgres"))
    assert (
        "127.0.0.1" in services["redis"]["command"]
        and "listen_addresses=127.0.0.1" in services["postgres"]["command"]
    )


def test_compose_secrets_come_from_the_environment_only() -> None:
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    env = _compose()["services"]["ctiserver"]["environment"]
    for key in ("CTISERVER_PBX__AMI__SECRET", "CTISERVER_PBX__ARI__PASSWORD"):
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[key]), key
    assert "cti-secret" not in text and "change-me" not in text.lower()
    example = (DOCKER / "env.example").read_text(encoding="utf-8")
    assert {"AMI_SECRET", "ARI_PASSWORD", "POSTGRES_PASSWORD"} <= set(
        re.findall(r"^([A-Z_]+)=", example, re.M)
    )


def test_compose_mounts_exist() -> None:
    for name, svc in _compose()["services"].items():
        for volume in svc.get("volumes", []):
            src = volume.split(":", 1)[0]
            if src.startswith("."):
                assert (DOCKER / src).resolve().exists(), f"{name}: {src}"
        build = svc.get("build")
        if isinstance(build, str):
            assert (DOCKER / build / "Dockerfile").is_file()
        elif isinstance(build, dict):
            assert (DOCKER / build["context"] / build["dockerfile"]).is_file()


def test_asterisk_image_is_asterisk_22() -> None:
    text = (DOCKER / "asterisk" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"ARG ASTERISK_VERSION=22\.\d+\.\d+", text)


def _sections() -> list[tuple[str, type[Any]]]:
    from ctiserver.acd.config import AcdConfig
    from ctiserver.cli.dialplan import DialplanConfig
    from ctiserver.crm.service import CrmConfig
    from ctiserver.ivr.config import IvrConfig
    from ctiserver.recording.config import RecordingConfig

    return [
        ("acd", AcdConfig),
        ("crm", CrmConfig),
        ("ivr", IvrConfig),
        ("dialplan", DialplanConfig),
        ("recording", RecordingConfig),
    ]


@pytest.mark.parametrize(
    "path",
    [DOCKER / "ctiserver.yaml", ROOT / "ctiserver" / "web" / "demo" / "ctiserver.yaml"],
    ids=["docker", "demo"],
)
def test_shipped_configuration_validates_with_every_area_model(path: Path) -> None:
    config = load_config(path, environ={})
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, model in _sections():
        if name in raw:
            config.section(name, model)  # raises ConfigError naming the field


def test_demo_simulator_configuration_validates(tmp_path: Path) -> None:
    from ctiserver.cli.demo import demo_config
    from ctiserver.sim.config import load_sim_config

    config = demo_config(tmp_path, 0)
    sim = load_sim_config(config.simulator.config_file)
    assert {e.name for e in sim.endpoints} >= {str(n) for n in range(1001, 1013)}
    assert set(sim.traffic.agents) == {str(n) for n in range(1002, 1013)}  # 1001 is the visitor's
    acd = config.section("acd", _sections()[0][1])
    assert len(acd.agents) == 12 and len(acd.queues) == 3
    assert [a.id for a in acd.agents if not a.login] == ["1001"]
