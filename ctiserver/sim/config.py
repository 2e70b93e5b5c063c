"""The simulated PBX's configuration: endpoints, dialplan, queues, sounds, credentials.

Defaults mirror the ground-truth traces' ``_config/`` (Asterisk 22.10.1, ``systemname = cti-test``):
AMI/ARI user
``cti``/``cti-secret``, agent endpoints 1001–1010 registered and answering after 1 s, DID 100 →
``Stasis(ctiserver,did,100)``, DID 200 → ``Queue(support)`` (ringall), DID 201 → ``Queue(load)`` (rrmemory).
A YAML file (``ctiserver sim --config FILE``) may override any field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ctiserver.sim.traffic import TrafficConfig


class SimConfigError(Exception):
    """The simulator configuration is invalid; the message names the file and the field."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointConfig(_M):
    name: str
    callerid_name: str = ""
    callerid_num: str = ""
    context: str = "from-agents"
    registered: bool = True
    answer_after: float | None = 1.0  # None: never answers by itself (scripted/manual answer)
    hangup_after: float | None = None  # seconds of talk after which the endpoint sends BYE


class FarEndConfig(_M):
    """A party at the carrier, reached through a trunk (``Dial(PJSIP/<number>@trunk)``)."""

    answer_after: float | None = 3.0  # None: rings until the call is given up
    hangup_after: float | None = None  # seconds of talk after which the party hangs up
    reject: int | None = Field(None, ge=400, le=699)  # a SIP final response instead of ringing (486 busy, 404 …)
    reject_after: float = 0.3
    # keys the party presses, (seconds after its answer, digit): e.g. the opt-out key during a dialler's message
    dtmf: tuple[tuple[float, str], ...] = ()


class TrunkConfig(_M):
    """A SIP trunk endpoint (pjsip.conf ``[trunk]``): calls out through it reach ``FarEnd`` parties; a number
    the simulator does not know gets ``default`` (out of the box the carrier's 404 Not Found)."""

    name: str = "trunk"
    context: str = "from-external"
    default: FarEndConfig = FarEndConfig(reject=404)


class QueueConfig(_M):
    name: str
    strategy: str = Field("ringall", pattern="^(ringall|rrmemory|leastrecent)$")
    timeout: float = 15.0
    retry: float = 2.0
    musicclass: str = "default"
    members: tuple[str, ...] = ()  # static members (interfaces, e.g. PJSIP/2001)


class Step(_M):
    app: str
    data: str = ""
    label: str | None = None  # ``same => n(label),…``: a Goto/GotoIf target by name


class ScriptedCall(_M):
    """A caller in the YAML script: dials ``to`` at ``at`` s, presses ``dtmf`` [[t, digit]...] (t from the
    call's start), hangs up after ``hangup_after`` s or when the PBX hangs up."""

    at: float = 0.0
    from_number: str = "5550100"
    from_name: str = ""
    to: str = "100"
    dtmf: tuple[tuple[float, str], ...] = ()
    hangup_after: float | None = None
    endpoint: str = "caller"
    dtmf_mode: str = Field("info", pattern="^(info|rfc4733)$")


class ScriptedAgent(_M):
    name: str
    registered: bool = True
    answer_after: float | None = 1.0
    hangup_after: float | None = None


class Script(_M):
    agents: tuple[ScriptedAgent, ...] = ()
    calls: tuple[ScriptedCall, ...] = ()


def _default_endpoints() -> tuple[EndpointConfig, ...]:
    agents = tuple(
        EndpointConfig(name=str(n), callerid_name=f"Agent {n}", callerid_num=str(n))
        for n in range(1001, 1011)
    )
    callers = (
        EndpointConfig(name="caller", context="from-external", registered=False, answer_after=None),
        EndpointConfig(name="anonymous", context="from-external", registered=False, answer_after=None),
    )
    return agents + callers


def _default_dialplan() -> dict[str, dict[str, tuple[Step, ...]]]:
    def queue(name: str, did: str) -> tuple[Step, ...]:
        return (
            Step(app="NoOp", data=f"DID {did} -> queue {name}"),
            Step(app="Answer"),
            Step(app="Queue", data=f"{name},t,,,300"),
            Step(app="Hangup"),
        )

    return {
        "from-external": {
            "100": (
                Step(app="NoOp", data="DID 100 from ${CALLERID(all)}"),
                Step(app="Stasis", data="${CTI_APP},did,100"),
                Step(app="Hangup"),
            ),
            "200": queue("support", "200"),
            "201": queue("load", "201"),
            "601": (Step(app="Answer"), Step(app="Playback", data="hello-world"), Step(app="Hangup")),
            "607": (Step(app="Answer"), Step(app="Wait", data="60"), Step(app="Hangup")),
        },
        "from-agents": {
            "_100X": (
                Step(app="NoOp", data="Agent call to ${EXTEN}"),
                Step(app="Dial", data="PJSIP/${EXTEN},30"),
                Step(app="Hangup"),
            ),
            "100": (Step(app="Goto", data="from-external,100,1"),),
            "200": (Step(app="Goto", data="from-external,200,1"),),
        },
    }


DEFAULT_SOUNDS = {
    "hello-world": 1.404,
    "beep": 0.423,
    "vm-nobodyavail": 2.787,
    "demo-congrats": 6.0,
    "tt-monkeys": 9.0,
    "demo-echotest": 5.0,
}


class SimConfig(_M):
    systemname: str = "cti-test"
    asterisk_id: str = "02:fc:00:00:00:01"
    ami_user: str = "cti"
    ami_secret: str = "cti-secret"
    ami_write: str = "all"  # the AMI user's manager.conf write classes (actions outside them: Permission denied)
    ari_user: str = "cti"
    ari_password: str = "cti-secret"
    host: str = "127.0.0.1"
    ami_port: int = 0
    ari_port: int = 0
    # PEM certificate chain and key: AMI over TLS and ARI over HTTPS/WSS (manager.conf / http.conf tlsenable,
    # tlscertfile, tlsprivatekey); None: plain TCP and HTTP
    tls_cert: str | None = None
    tls_key: str | None = None
    globals: dict[str, str] = Field(default_factory=lambda: {"CTI_APP": "ctiserver"})
    endpoints: tuple[EndpointConfig, ...] = Field(default_factory=_default_endpoints)
    trunks: tuple[TrunkConfig, ...] = (TrunkConfig(),)
    dialplan: dict[str, dict[str, tuple[Step, ...]]] = Field(default_factory=_default_dialplan)
    # extensions.conf files (e.g. `ctiserver dialplan render`'s) read as Asterisk's pbx_config reads them; their
    # extensions go over those of `dialplan` (relative paths: from the simulator's YAML file)
    dialplan_files: tuple[str, ...] = ()
    queues: tuple[QueueConfig, ...] = (
        QueueConfig(name="support", strategy="ringall", timeout=15, retry=2),
        QueueConfig(name="load", strategy="rrmemory", timeout=10, retry=1),
    )
    sounds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SOUNDS))
    sounds_dir: str | None = None  # real sound files (<name>.wav) give the playback duration when present
    default_sound_seconds: float = 1.0
    recordings_dir: str = "var/sim-recordings"
    traffic: TrafficConfig = TrafficConfig()
    script: Script = Script()


def load_sim_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> SimConfig:
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise SimConfigError(f"{p}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise SimConfigError(f"{p}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SimConfigError(f"{p}: the top level must be a mapping")
        data = loaded
    data.update(overrides or {})
    try:
        config = SimConfig.model_validate(data)
    except ValidationError as exc:
        parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SimConfigError(f"{path or 'simulator config'}: {'; '.join(parts)}") from exc
    if not config.dialplan_files:
        return config
    base = Path(path).parent if path is not None else Path.cwd()
    plan = {ctx: dict(extens) for ctx, extens in config.dialplan.items()}
    for name in config.dialplan_files:
        for ctx, extens in read_extensions_conf(base / name).items():
            plan.setdefault(ctx, {}).update(extens)
    return config.model_copy(update={"dialplan": plan})


def read_extensions_conf(path: Path) -> dict[str, dict[str, tuple[Step, ...]]]:
    """An extensions.conf as the simulator's dialplan: each extension's priorities must run 1, 2, 3… (the
    simulator steps through them in order), as `ctiserver dialplan render` writes them."""
    from ctiserver.pbx.extensions_conf import parse

    try:
        conf = parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SimConfigError(f"{path}: {exc.strerror}") from exc
    if conf.warnings:
        raise SimConfigError(f"{path}: {'; '.join(conf.warnings)}")
    plan: dict[str, dict[str, tuple[Step, ...]]] = {}
    for ctx, extens in conf.contexts.items():
        for exten in extens:
            prios = conf.priorities(ctx, exten)
            if [p.number for p in prios] != list(range(1, len(prios) + 1)):
                raise SimConfigError(f"{path}:{prios[0].line}: {exten}@{ctx}: priorities must be 1, 2, 3…")
            plan.setdefault(ctx, {})[exten] = tuple(Step(app=p.app, data=p.data, label=p.label) for p in prios)
    return plan
