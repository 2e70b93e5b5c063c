"""Frozen, typed ARI resources (Channel, Bridge, Playback, LiveRecording, Endpoint, DeviceState...), field
names as in Asterisk's own swagger (shared/asterisk-api/ari-api-docs/*.json).

``build(cls, obj)`` turns decoded JSON into one of these dataclasses tolerantly: a missing or mistyped
optional field gets its default; a missing *required* key (``Model._required``) or a required nested model
raises ``Malformed`` — the event parser turns that into an ``UnknownEvent`` instead of an exception.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class Malformed(ValueError):
    """JSON that cannot become the typed model (a required key missing or of the wrong kind)."""


@dataclass(frozen=True, slots=True)
class CallerID:
    name: str = ""
    number: str = ""


@dataclass(frozen=True, slots=True)
class DialplanCEP:
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


@dataclass(frozen=True, slots=True)
class Channel:
    _required: ClassVar[tuple[str, ...]] = ("id",)
    id: str
    name: str = ""
    state: str = ""  # Down, Rsrved, OffHook, Dialing, Ring, Ringing, Up, Busy, Pre-ring, Unknown...
    protocol_id: str = ""
    caller: CallerID = CallerID()
    connected: CallerID = CallerID()
    accountcode: str = ""
    dialplan: DialplanCEP = DialplanCEP()
    creationtime: str = ""
    language: str = ""
    channelvars: dict[str, Any] = field(default_factory=dict, hash=False)
    caller_rdnis: str = ""
    tenantid: str = ""


@dataclass(frozen=True, slots=True)
class Bridge:
    _required: ClassVar[tuple[str, ...]] = ("id",)
    id: str
    technology: str = ""
    bridge_type: str = ""  # mixing, holding
    bridge_class: str = ""
    creator: str = ""
    name: str = ""
    channels: tuple[str, ...] = ()
    video_mode: str = ""
    video_source_id: str = ""
    creationtime: str = ""


@dataclass(frozen=True, slots=True)
class Playback:
    _required: ClassVar[tuple[str, ...]] = ("id",)
    id: str
    media_uri: str = ""
    next_media_uri: str = ""
    target_uri: str = ""
    language: str = ""
    state: str = ""  # queued, playing, continuing, done, failed


@dataclass(frozen=True, slots=True)
class LiveRecording:
    _required: ClassVar[tuple[str, ...]] = ("name",)
    name: str
    format: str = ""
    target_uri: str = ""
    state: str = ""  # queued, recording, paused, done, failed, canceled
    duration: int | None = None
    talking_duration: int | None = None
    silence_duration: int | None = None
    cause: str = ""


@dataclass(frozen=True, slots=True)
class StoredRecording:
    _required: ClassVar[tuple[str, ...]] = ("name",)
    name: str
    format: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    _required: ClassVar[tuple[str, ...]] = ("resource",)
    technology: str = ""
    resource: str = ""
    state: str = ""  # unknown, offline, online
    channel_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceState:
    _required: ClassVar[tuple[str, ...]] = ("name",)
    name: str = ""
    state: str = ""  # UNKNOWN, NOT_INUSE, INUSE, BUSY, INVALID, UNAVAILABLE, RINGING, RINGINUSE, ONHOLD


@dataclass(frozen=True, slots=True)
class Application:
    _required: ClassVar[tuple[str, ...]] = ("name",)
    name: str = ""
    channel_ids: tuple[str, ...] = ()
    bridge_ids: tuple[str, ...] = ()
    endpoint_ids: tuple[str, ...] = ()
    device_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactInfo:
    uri: str = ""
    contact_status: str = ""
    aor: str = ""
    roundtrip_usec: str = ""


@dataclass(frozen=True, slots=True)
class Peer:
    peer_status: str = ""
    cause: str = ""
    address: str = ""
    port: str = ""
    time: str = ""


@dataclass(frozen=True, slots=True)
class AsteriskInfo:
    """``GET /asterisk/info``: the parts we use, plus the whole answer in ``raw``."""

    version: str = ""
    entity_id: str = ""
    startup_time: str = ""
    last_reload_time: str = ""
    raw: dict[str, Any] = field(default_factory=dict, hash=False, repr=False)

    @classmethod
    def from_json(cls, obj: Any) -> AsteriskInfo:
        obj = obj if isinstance(obj, dict) else {}
        system = obj.get("system") if isinstance(obj.get("system"), dict) else {}
        status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
        return cls(
            version=_str(system.get("version")),
            entity_id=_str(system.get("entity_id")),
            startup_time=_str(status.get("startup_time")),
            last_reload_time=_str(status.get("last_reload_time")),
            raw=obj,
        )


# ---------------------------------------------------------------------------------------------- conversion
def _str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    return ""


def _int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            return 0
    return 0


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "1")
    return bool(v) if isinstance(v, int | float) else False


def _str_tuple(v: Any) -> tuple[str, ...]:
    return tuple(_str(x) for x in v) if isinstance(v, list) else ()


def _dict(v: Any) -> dict[str, Any]:
    return dict(v) if isinstance(v, dict) else {}


_Converter = Callable[[Any], Any]
_SPECS: dict[type[Any], list[tuple[str, _Converter, bool]]] = {}


def _converter(tp: Any) -> tuple[_Converter, bool]:
    """(converter, optional) for a resolved field type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        conv, _ = _converter(inner[0])
        return (lambda v: None if v is None else conv(v)), True
    if tp is str:
        return _str, False
    if tp is int:
        return _int, False
    if tp is bool:
        return _bool, False
    if tp is float:
        return (lambda v: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0), False
    if origin is tuple:
        return _str_tuple, False
    if origin is dict or tp is dict:
        return _dict, False
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        model = tp
        return (lambda v: build(model, v)), False
    return (lambda v: v), True


def _spec(cls: type[Any]) -> list[tuple[str, _Converter, bool]]:
    spec = _SPECS.get(cls)
    if spec is None:
        hints = typing.get_type_hints(cls)
        spec = []
        for f in dataclasses.fields(cls):
            conv, optional = _converter(hints[f.name])
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            spec.append((f.name, conv, optional or has_default))
        _SPECS[cls] = spec
    return spec


def build(cls: type[T], obj: Any) -> T:
    """Decoded JSON object → ``cls`` (a dataclass of this package). Raises ``Malformed`` only when a required
    key/model is missing or not an object."""
    if not isinstance(obj, dict):
        raise Malformed(f"{cls.__name__}: expected a JSON object, got {type(obj).__name__}")
    for key in getattr(cls, "_required", ()):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise Malformed(f"{cls.__name__}: missing {key!r}")
    kwargs: dict[str, Any] = {}
    for name, conv, optional in _spec(cls):
        value = obj.get(name)
        if value is None:
            if not optional:
                raise Malformed(f"{cls.__name__}: missing {name!r}")
            continue
        if optional:
            try:
                kwargs[name] = conv(value)
            except Malformed:
                continue  # a broken optional part: keep the default, keep the rest
        else:
            kwargs[name] = conv(value)
    return cls(**kwargs)
