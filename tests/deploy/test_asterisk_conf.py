"""asterisk-conf/ is a complete, minimal Asterisk 22 configuration: every option known to Asterisk 22, every
reference resolved, every dialplan application/function documented, the rendered dialplan up to date."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ctiserver.cli.dialplan import render
from ctiserver.config import load_config
from tests.conftest import ASTERISK_API, ROOT, TRACES
from tests.deploy.asterisk_conf import (
    MANAGER_CLASSES,
    UNDOCUMENTED_MODULES,
    ConfFile,
    effective,
    lint_file,
    parse,
    xml_app_options,
    xml_modules,
    xml_names,
    xml_root,
)

CONF = ROOT / "asterisk-conf"
XML = ASTERISK_API / "core-en_US.xml"
DOCKER_YAML = ROOT / "docker" / "ctiserver.yaml"
REQUIRED = {
    "modules.conf",
    "manager.conf",
    "http.conf",
    "ari.conf",
    "pjsip.conf",
    "extensions.conf",
    "extensions_ctiserver.conf",
    "musiconhold.conf",
    "queues.conf",
    "rtp.conf",
    "cel.conf",
    "cdr.conf",
}
CONF_FILES = sorted(CONF.glob("*.conf"))


def _conf(name: str) -> ConfFile:
    return parse(CONF / name)


def test_the_minimal_set_is_there() -> None:
    assert REQUIRED <= {p.name for p in CONF_FILES}


@pytest.mark.parametrize("path", CONF_FILES, ids=lambda p: p.name)
def test_every_section_and_option_is_known_to_asterisk_22(path: Path) -> None:
    assert lint_file(path, XML) == []


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (TRACES / "_config").glob("*.conf") if p.name != "cel_custom.conf")
)
def test_the_catalogue_accepts_the_working_asterisk_of_the_traces(name: str) -> None:
    # the traces' _config/ ran a real Asterisk 22.10.1: a catalogue that rejected it would be wrong
    assert lint_file(TRACES / "_config" / name, XML) == []


@pytest.mark.parametrize(
    ("file", "needle", "replacement", "message"),
    [
        ("manager.conf", "bindaddr = 127.0.0.1", "bindadr = 127.0.0.1", "unknown option 'bindadr'"),
        ("pjsip.conf", "rtp_symmetric = yes", "rtp_symetric = yes", "inherits unknown option 'rtp_symetric'"),
        ("pjsip.conf", "type = registration", "type = registrar", "unknown type 'registrar'"),
        ("queues.conf", "ringinuse = no", "ring_in_use = no", "unknown option 'ring_in_use'"),
        ("ari.conf", "read_only = no", "readonly = no", "unknown option 'readonly'"),
        ("http.conf", "[general]", "[generall]", "not known for http.conf"),
    ],
)
def test_the_lint_catches_a_typo(
    tmp_path: Path, file: str, needle: str, replacement: str, message: str
) -> None:
    text = (CONF / file).read_text(encoding="utf-8")
    assert needle in text
    bad = tmp_path / file
    bad.write_text(text.replace(needle, replacement, 1), encoding="utf-8")
    errors = lint_file(bad, XML)
    assert any(message in e for e in errors), errors


def test_rendered_dialplan_is_up_to_date() -> None:
    expected = render(load_config(DOCKER_YAML, environ={}))
    assert (CONF / "extensions_ctiserver.conf").read_text(encoding="utf-8") == expected, (
        "run: ctiserver dialplan render -c docker/ctiserver.yaml -o asterisk-conf/extensions_ctiserver.conf"
    )


def test_extensions_includes_the_rendered_file() -> None:
    assert "extensions_ctiserver.conf" in _conf("extensions.conf").includes


def _modules() -> list[str]:
    section = next(s for s in _conf("modules.conf").sections if s.name == "modules")
    assert section.get("autoload") == "no", "minimal: load only what is listed"
    return [v.removesuffix(".so") for k, v, _ in section.options if k == "load"]


def test_modules_exist_in_asterisk_22() -> None:
    known = xml_modules(XML) | UNDOCUMENTED_MODULES
    unknown = [m for m in _modules() if m not in known]
    assert unknown == []
    assert len(set(_modules())) == len(_modules()), "a module is loaded twice"


_APP = re.compile(r"^(?:\d+|n|hint)(?:\([\w-]+\))?,\s*(?P<app>[A-Za-z]\w*)\((?P<args>.*)\)\s*$")
_FUNC = re.compile(r"\$\{(?P<f>[A-Z_][A-Z0-9_]*)\(")
_WRITTEN = re.compile(r"^(?P<f>[A-Z_][A-Z0-9_]*)\(")


def _dialplan_lines() -> list[tuple[str, str, str]]:
    out = []
    for name in ("extensions.conf", "extensions_ctiserver.conf"):
        conf = _conf(name)
        for section in conf.sections:
            for key, value, line in section.options:
                if key in ("exten", "same"):
                    rest = value.split(",", 1)[1] if key == "exten" else value
                    out.append((f"{name}:{line}", rest.strip(), section.name))
    return out


def test_dialplan_applications_and_functions_are_asterisk_22_and_loaded() -> None:
    apps = xml_names(XML, "application")
    funcs = xml_names(XML, "function")
    loaded = set(_modules()) | {"builtin"}
    module_of = {e.get("name"): e.get("module") for e in xml_root(XML).iter("application")}
    func_module = {e.get("name"): e.get("module") for e in xml_root(XML).iter("function")}
    problems = []
    used = set()
    for where, step, _ in _dialplan_lines():
        m = _APP.match(step)
        if not m:
            problems.append(f"{where}: cannot read application in {step!r}")
            continue
        app = m.group("app")
        used.add(app)
        if app not in apps:
            problems.append(f"{where}: unknown application {app}")
        elif module_of.get(app) not in loaded:
            problems.append(f"{where}: {app} needs {module_of.get(app)}.so, not loaded in modules.conf")
        written = _WRITTEN.match(m.group("args")) if app == "Set" else None  # Set(DB(a/b)=…): a function write
        for f in _FUNC.findall(step) + ([written.group("f")] if written else []):
            if f not in funcs:
                problems.append(f"{where}: unknown function {f}")
            elif func_module.get(f) not in loaded:
                problems.append(f"{where}: {f}() needs {func_module.get(f)}.so, not loaded")
    assert problems == []
    assert {"Stasis", "Queue", "AMD", "Dial", "ChanSpy"} <= used


@pytest.mark.parametrize("app", ["Dial", "Queue", "ChanSpy"])
def test_application_option_letters_exist(app: str) -> None:
    letters = xml_app_options(XML, app)
    assert letters
    option_arg = {"Dial": 2, "Queue": 1, "ChanSpy": 1}[app]
    for where, step, _ in _dialplan_lines():
        m = _APP.match(step)
        if m and m.group("app") == app:
            args = m.group("args").split(",")
            opts = args[option_arg] if len(args) > option_arg else ""
            bad = [c for c in re.sub(r"\([^)]*\)", "", opts) if c not in letters]
            assert bad == [], f"{where}: {app} options {opts!r}"


def test_stasis_calls_use_the_ari_app_of_the_daemon() -> None:
    config = load_config(DOCKER_YAML, environ={})
    text = (CONF / "extensions_ctiserver.conf").read_text(encoding="utf-8")
    assert f"CTI_APP = {config.pbx.ari.app}" in text
    for did in ("100", "101"):
        assert f"Stasis(${{CTI_APP}},did,{did})" in text
    assert "Queue(support," in text  # the observer-mode DID


def test_pjsip_references_resolve_and_contexts_exist() -> None:
    pj = _conf("pjsip.conf")
    by_type: dict[str, set[str]] = {}
    for s in pj.sections:
        if not s.template:
            by_type.setdefault(effective(pj, s)["type"], set()).add(s.name)
    contexts = {s.name for n in ("extensions.conf", "extensions_ctiserver.conf") for s in _conf(n).sections}
    refs = {
        "transport": "transport",
        "aors": "aor",
        "auth": "auth",
        "outbound_auth": "auth",
        "endpoint": "endpoint",
    }
    problems = []
    for s in pj.sections:
        if s.template:
            continue
        opts = effective(pj, s)
        for key, kind in refs.items():
            for target in filter(None, (x.strip() for x in opts.get(key, "").split(","))):
                if target not in by_type.get(kind, set()):
                    problems.append(f"[{s.name}] {key}={target}: no {kind} of that name")
        if opts["type"] == "endpoint" and opts.get("context") not in contexts:
            problems.append(f"[{s.name}] context={opts.get('context')} is not in the dialplan")
    assert problems == []
    agents = sorted(n for n in by_type["endpoint"] if n.isdigit())
    assert len(agents) >= 12, "one softphone endpoint per demo agent"
    assert "trunk" in by_type["endpoint"] and "registration" in by_type


def test_ami_user_is_dedicated_least_privilege_and_loopback() -> None:
    man = _conf("manager.conf")
    general = next(s for s in man.sections if s.name == "general")
    assert general.get("enabled") == "yes" and general.get("bindaddr") == "127.0.0.1"
    assert general.get("webenabled") == "no"
    config = load_config(DOCKER_YAML, environ={})
    user = next(s for s in man.sections if s.name == config.pbx.ami.username)
    read = set(user.get("read").split(","))  # type: ignore[union-attr]
    write = set(user.get("write").split(","))  # type: ignore[union-attr]
    assert read <= MANAGER_CLASSES and write <= MANAGER_CLASSES
    assert {"call", "agent", "dtmf", "system"} <= read  # channels, queues, DTMF, FullyBooted/Shutdown
    assert {"call", "originate", "agent"} <= write
    assert "all" not in read | write and "command" not in write and "config" not in write
    assert user.get("deny") == "0.0.0.0/0.0.0.0"


def test_ari_and_http_match_the_daemon_config() -> None:
    config = load_config(DOCKER_YAML, environ={})
    http = next(s for s in _conf("http.conf").sections if s.name == "general")
    assert http.get("enabled") == "yes"
    assert config.pbx.ari.url == f"http://{http.get('bindaddr')}:{http.get('bindport')}/ari"
    ari = _conf("ari.conf")
    user = next(s for s in ari.sections if s.name == config.pbx.ari.username)
    assert user.get("type") == "user" and user.get("read_only") == "no"


def test_conf_dir_is_usable_as_etc_asterisk(tmp_path: Path) -> None:
    # every #include resolves inside the folder (it is mounted as /etc/asterisk)
    target = tmp_path / "etc-asterisk"
    shutil.copytree(CONF, target)
    for p in target.glob("*.conf"):
        for inc in parse(p).includes:
            assert (target / inc).is_file(), f"{p.name} includes missing {inc}"
