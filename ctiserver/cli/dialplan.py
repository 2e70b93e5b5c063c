"""``ctiserver dialplan render``: the Asterisk dialplan that hands calls to ctiserver, from its own config.

The section ``dialplan:`` lists the DIDs (each goes to ``Stasis(<app>,did,<DID>)``, or to a plain ``Queue()``
in observer mode) and the contexts for agents, outbound calls, dialer attempts with AMD and supervisor
monitoring.  The ARI application name comes from ``pbx.ari.app`` unless the section overrides it.
Templates are Jinja2 files in ``dialplan/`` (``--templates`` to use others).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ctiserver.config import Config, ConfigError, load_config


def _default_templates() -> Path:
    """``dialplan/`` of the source tree (editable install), else ``./dialplan`` (docker image)."""
    for candidate in (Path(__file__).resolve().parents[2] / "dialplan", Path.cwd() / "dialplan"):
        if (candidate / MAIN_TEMPLATE).is_file():
            return candidate
    return Path.cwd() / "dialplan"


MAIN_TEMPLATE = "extensions_ctiserver.conf.j2"
_CONTEXT = r"^[A-Za-z0-9_-]{1,79}$"
_DID = re.compile(r"^[0-9+*#]{1,32}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Did(_Model):
    number: str
    description: str = ""
    queue: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,79}$")  # observer mode: app_queue
    queue_timeout: int = Field(300, ge=1, le=86400)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        if not _DID.match(value):
            raise ValueError(f"DID {value!r} must be digits (and + * #), at most 32")
        return value


class Outbound(_Model):
    trunk: str = Field("trunk", pattern=_CONTEXT)
    caller_id: str = Field("", pattern=r"^[0-9+]{0,32}$")
    ring_timeout: int = Field(45, ge=5, le=300)
    agent_prefix: str = Field("9", pattern=r"^[0-9]{0,4}$")


class Amd(_Model):
    """AMD() parameters (milliseconds; see Asterisk's AMD application)."""

    enabled: bool = True
    initial_silence: int = Field(2500, ge=100)
    greeting: int = Field(1500, ge=100)
    # the law's two seconds for an agent run from the end of the greeting; AMD says HUMAN this much later
    after_greeting_silence: int = Field(800, ge=100, le=1500)
    total_analysis_time: int = Field(5000, ge=500)
    minimum_word_length: int = Field(100, ge=10)
    between_words_silence: int = Field(50, ge=10)
    maximum_number_of_words: int = Field(2, ge=1)
    silence_threshold: int = Field(256, ge=1, le=32767)
    maximum_word_length: int = Field(5000, ge=100)


class DialplanConfig(_Model):
    app: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    inbound_context: str = Field("from-external", pattern=_CONTEXT)
    agents_context: str = Field("from-agents", pattern=_CONTEXT)
    outbound_context: str = Field("ctiserver-outbound", pattern=_CONTEXT)
    dialer_context: str = Field("ctiserver-dialer", pattern=_CONTEXT)
    amd_context: str = Field("ctiserver-amd", pattern=_CONTEXT)
    spy_context: str = Field("ctiserver-spy", pattern=_CONTEXT)
    agent_pattern: str = Field("_10XX", pattern=r"^_?[0-9XZN.\[\]-]{1,32}$")
    agent_ring_timeout: int = Field(30, ge=5, le=300)
    catch_all: bool = False
    dids_from_ivr: bool = True  # also every DID that a script in ivr.scripts_dir declares (``dids:``)
    dids: tuple[Did, ...] = (Did(number="100", description="main IVR"),)
    outbound: Outbound = Outbound()
    amd: Amd = Amd()

    @field_validator("dids")
    @classmethod
    def _unique(cls, value: tuple[Did, ...]) -> tuple[Did, ...]:
        seen: set[str] = set()
        for did in value:
            if did.number in seen:
                raise ValueError(f"DID {did.number} is listed twice")
            seen.add(did.number)
        return value


def render(config: Config, templates: Path | None = None) -> str:
    """Render the ctiserver dialplan (``extensions_ctiserver.conf``) for ``config``."""
    section = config.section("dialplan", DialplanConfig)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates or _default_templates())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    values: dict[str, Any] = section.model_dump()
    values["app"] = section.app or config.pbx.ari.app
    values["dids"] = list(section.dids) + (ivr_dids(config, section.dids) if section.dids_from_ivr else [])
    text = env.get_template(MAIN_TEMPLATE).render(**values)
    return re.sub(r"\n{3,}", "\n\n", text)


def ivr_dids(config: Config, listed: tuple[Did, ...]) -> list[Did]:
    """DIDs declared by the IVR scripts the daemon serves (``ivr.scripts_dir``) and not listed already."""
    raw = (config.model_extra or {}).get("ivr") or {}
    folder = Path(str(raw.get("scripts_dir", "ivr_scripts")) if isinstance(raw, dict) else "ivr_scripts")
    if not folder.is_dir():
        return []
    seen = {d.number for d in listed}
    out: list[Did] = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the IVR script: {exc}") from exc
        if not isinstance(data, dict):
            continue
        for number in data.get("dids") or ():
            if str(number) not in seen:
                seen.add(str(number))
                name = data.get("script", path.stem)
                try:
                    out.append(Did(number=str(number), description=f"IVR script {name}"))
                except ValueError as exc:
                    raise ConfigError(f"{path}: dids: {exc}") from exc
    return out


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("dialplan", help="Asterisk dialplan for ctiserver")
    dsub = p.add_subparsers(dest="dialplan_command", metavar="ACTION", required=True)
    r = dsub.add_parser("render", help="render extensions_ctiserver.conf from the configuration")
    r.add_argument("--config", "-c", help="ctiserver.yaml (default: $CTISERVER_CONFIG or built-in defaults)")
    r.add_argument("--output", "-o", help="write here instead of standard output")
    r.add_argument("--templates", help="folder of the Jinja2 templates (default: dialplan/)")
    r.set_defaults(func=_render)


def _render(args: argparse.Namespace) -> int:
    try:
        text = render(load_config(args.config), Path(args.templates) if args.templates else None)
    except ConfigError as exc:
        print(f"ctiserver dialplan: {exc}", file=sys.stderr)
        return 2
    except jinja2.TemplateError as exc:
        print(f"ctiserver dialplan: template error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
