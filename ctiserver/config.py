"""Typed configuration: defaults → ``ctiserver.yaml`` → ``CTISERVER_*`` environment variables.

Core sections are typed here. A subsystem owns its own section model in its own package and reads it with
``config.section("acd", AcdConfig)``; the raw YAML of every top-level key is kept for that purpose.

Environment variables use ``__`` for nesting: ``CTISERVER_AMI__HOST=10.0.0.5``, ``CTISERVER_ACD__WRAPUP_SECONDS=20``.
A secret may also come from a file: ``CTISERVER_AMI__SECRET_FILE=/run/secrets/ami``. Secrets are ``SecretStr`` and
never appear in ``repr`` or logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

ENV_PREFIX = "CTISERVER_"

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """The configuration cannot be loaded; the message names the file/variable and field."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsTrust(_Section):
    """Which certificate the PBX must show (``ctiserver.pbx.tls``)."""

    ca_file: str | None = None  # PEM: the CA that signed Asterisk's certificate (None: the system's CAs)
    verify: bool = True  # False: no check at all — anyone in between can read and change everything
    server_name: str | None = None  # the name Asterisk's certificate bears, when ``host`` is not it (an address)


class AmiTls(TlsTrust):
    enabled: bool = False  # AMI over TLS: manager.conf tlsenable / tlsbindaddr (port 5039 by default)


class AmiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "cti"
    secret: SecretStr = SecretStr("cti-secret")
    auth: str = Field("md5", pattern="^(md5|plain)$")
    tls: AmiTls = AmiTls()  # an Asterisk on another host: port 5039 and enabled: true
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    keepalive_interval: float = 20.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    # undispatched events at which the client stops reading the socket until the consumers are back under half
    # of it: memory stays bounded (TCP pushes back on Asterisk), at the price of answers waiting meanwhile
    max_backlog: int = Field(200_000, ge=100)
    # (MatchCriteria, Filter) pairs sent as AMI ``Filter`` actions after every login (Asterisk 21+ criteria; the
    # user needs the ``system`` write class): events ctiserver never reads are not sent at all. The defaults drop
    # the CEL records other than HANGUP and the VarSet of variables other than CTI_* and AMD* (those are what the
    # tracker and the dialer read), Newexten, Cdr and SoftHangupRequest — 39 of the ~64 AMI events of a queued
    # call. POSIX regular expressions have no negation, hence the "anything but" spelled out. ``[]`` receives
    # everything.
    event_filters: tuple[tuple[str, str], ...] = (
        (
            "action(exclude),name(CEL),header(EventName),regex",
            "^([^H]|H[^A]|HA[^N]|HAN[^G]|HANG[^U]|HANGU[^P]|HANGUP.)",
        ),
        ("action(exclude),name(VarSet),header(Variable),regex", "^([^CA]|C[^T]|CT[^I]|CTI[^_]|A[^M]|AM[^D])"),
        # read by nothing in ctiserver: dialplan steps, CDR records, the soft half of a hang-up request (a legacy
        # filter: a regular expression on the whole event, which starts with its "Event: <name>" line)
        ("", "!^Event: (Newexten|Cdr|SoftHangupRequest)[^A-Za-z0-9]"),
    )


class AriConfig(_Section):
    url: str = "http://127.0.0.1:8088/ari"  # https://…:8089/ari: REST and events over TLS (http.conf tlsenable)
    tls: TlsTrust = TlsTrust()  # for an https:// url
    username: str = "cti"
    password: SecretStr = SecretStr("cti-secret")
    app: str = "ctiserver"
    subscribe_all: bool = False
    # event types ctiserver never reads: Asterisk stops sending them to the app (PUT /applications/{app}/
    # eventFilter, Asterisk 16.3+) — ChannelVarset alone was 16 of the ~37 ARI events of a queued call
    drop_events: tuple[str, ...] = ("ChannelVarset",)
    request_timeout: float = 10.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0


class PbxConfig(_Section):
    name: str = "default"
    ami: AmiConfig = AmiConfig()
    ari: AriConfig = AriConfig()
    # s between checks that the PBX has the contexts `ctiserver dialplan render` writes (0: never check)
    dialplan_check: float = Field(60.0, ge=0.0)


class ApiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: tuple[str, ...] = ()


class DatabaseConfig(_Section):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///var/ctiserver.sqlite")
    spool_dir: str = "var/spool"
    echo: bool = False
    # how often the calls in progress are saved (``calls/checkpoints.py``): what a killed daemon can lose of them
    checkpoint_seconds: float = Field(5.0, gt=0)
    # calls older than this lose their personal data (numbers, names, attached data, IVR inputs:
    # ``store/privacy.py``); None: kept as long as the calls
    personal_data_days: float | None = Field(None, gt=0)
    personal_data_check_seconds: float = Field(3600.0, gt=0)


class BusConfig(_Section):
    kind: str = Field("memory", pattern="^(memory|redis)$")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    stream: str = "ctiserver:events"


class SimulatorConfig(_Section):
    """The built-in Asterisk simulator (demo, tests)."""

    enabled: bool = False
    ami_port: int = 0
    ari_port: int = 0
    traffic: bool = False
    seed: int = 1
    config_file: str | None = None


class Config(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    node_id: str = "ctiserver-1"
    log_level: str = "INFO"
    log_format: str = Field("console", pattern="^(console|json)$")
    default_region: str = "US"
    data_dir: str = "var"
    event_loop: str = Field("auto", pattern="^(auto|asyncio|uvloop)$", description="auto: uvloop when installed")
    pbx: PbxConfig = PbxConfig()
    api: ApiConfig = ApiConfig()
    database: DatabaseConfig = DatabaseConfig()
    bus: BusConfig = BusConfig()
    simulator: SimulatorConfig = SimulatorConfig()

    def section(self, name: str, model: type[M]) -> M:
        """Validate the raw top-level section ``name`` (YAML + env already merged) with a subsystem's model."""
        raw = (self.model_extra or {}).get(name, {}) or {}
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"configuration section {name!r}: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in (f"{ENV_PREFIX}CONFIG",):
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        if path[-1].endswith("_file") and len(path[-1]) > 5:
            path[-1] = path[-1][:-5]
            try:
                value = Path(value).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{key}: cannot read secret file: {exc.strerror}") from exc
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _scalar(value)
    return tree


def _scalar(value: str) -> Any:
    try:
        return yaml.safe_load(value) if value.strip() else value
    except yaml.YAMLError:
        return value


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    path = path or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        p = Path(path)
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"{p}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping")
        data = loaded
    data = _merge(data, _env_overrides(env))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path or 'configuration'}: {_describe(exc)}") from exc
