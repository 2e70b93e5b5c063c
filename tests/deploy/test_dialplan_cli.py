"""``ctiserver dialplan render``: argument handling, rendering from the daemon's config, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.cli import main
from tests.conftest import ASTERISK_API
from tests.deploy.asterisk_conf import lint_file, parse

XML = ASTERISK_API / "core-en_US.xml"


def _yaml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ctiserver.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_render_to_stdout_uses_dids_and_app_from_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _yaml(
        tmp_path,
        "pbx: {ari: {app: acme}}\n"
        "dialplan:\n  dids: [{number: '5551234'}, {number: '5559999', queue: sales}]\n  catch_all: true\n",
    )
    assert main(["dialplan", "render", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "CTI_APP = acme" in out
    assert "exten => 5551234,1," in out and "Stasis(${CTI_APP},did,5551234)" in out
    assert "Queue(sales,t,,,300)" in out and "Stasis(${CTI_APP},did,5559999)" not in out
    assert "Stasis(${CTI_APP},did,${EXTEN})" in out  # catch-all


def test_render_to_file_is_valid_asterisk(tmp_path: Path) -> None:
    cfg = _yaml(
        tmp_path,
        "dialplan:\n  amd: {enabled: false}\n  outbound: {caller_id: '+15550100', agent_prefix: ''}\n",
    )
    out = tmp_path / "extensions_ctiserver.conf"
    assert main(["dialplan", "render", "-c", str(cfg), "-o", str(out)]) == 0
    assert lint_file(out, XML) == []
    text = out.read_text(encoding="utf-8")
    assert "n,AMD(" not in text and "CTI_AMD_STATUS=NOTSURE" in text
    assert "Set(CALLERID(num)=+15550100)" in text
    assert "_9X." not in text  # no agent prefix
    contexts = {s.name for s in parse(out).sections}
    assert {
        "from-external",
        "from-agents",
        "ctiserver-outbound",
        "ctiserver-dialer",
        "ctiserver-amd",
    } <= contexts


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("dialplan: {dids: [{number: '12a'}]}\n", "must be digits"),
        ("dialplan: {dids: [{number: '1'}, {number: '1'}]}\n", "listed twice"),
        ("dialplan: {didz: []}\n", "didz"),
        ("dialplan: {inbound_context: 'bad context'}\n", "inbound_context"),
        ("dialplan: {amd: {greeting: -5}}\n", "amd.greeting"),
    ],
)
def test_bad_configuration_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, message: str
) -> None:
    cfg = _yaml(tmp_path, yaml_text)
    out = tmp_path / "out.conf"
    assert main(["dialplan", "render", "-c", str(cfg), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "dialplan" in err and message in err
    assert not out.exists()  # nothing half-written


def test_missing_config_file_and_template_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dialplan", "render", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    cfg = _yaml(tmp_path, "{}\n")
    assert main(["dialplan", "render", "-c", str(cfg), "--templates", str(tmp_path)]) == 2
    assert "template" in capsys.readouterr().err


def test_action_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["dialplan"])
    assert exc.value.code == 2


def test_dids_of_ivr_scripts_are_rendered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "a.yaml").write_text("script: promo\ndids: ['555', '100']\nnodes: {}\n", encoding="utf-8")
    cfg = _yaml(tmp_path, f"ivr: {{scripts_dir: '{scripts}'}}\ndialplan: {{dids: [{{number: '100'}}]}}\n")
    assert main(["dialplan", "render", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Stasis(${CTI_APP},did,555)" in out and "IVR script promo" in out
    assert out.count("exten => 100,1,NoOp") == 1  # listed once, not twice
    (scripts / "b.yaml").write_text("script: bad\ndids: ['12ab']\n", encoding="utf-8")
    assert main(["dialplan", "render", "-c", str(cfg)]) == 2
    assert "b.yaml" in capsys.readouterr().err
    off = _yaml(tmp_path, f"ivr: {{scripts_dir: '{scripts}'}}\ndialplan: {{dids_from_ivr: false}}\n")
    assert main(["dialplan", "render", "-c", str(off)]) == 0
    assert "did,555" not in capsys.readouterr().out
