"""Wire formatting of the simulator's objects: AMI header blocks and ARI JSON, as Asterisk 22 writes them."""

from __future__ import annotations

import time
from typing import Any

from ctiserver.sim.model import Bridge, Channel

Headers = list[tuple[str, str]]


def unknown(value: str) -> str:
    return value if value else "<unknown>"


def chan_headers(ch: Channel, prefix: str = "") -> Headers:
    """The channel snapshot block every channel event carries (``Channel`` … ``Linkedid``), optionally
    prefixed
    (``Dest``, ``Transferer``...)."""
    p = prefix
    return [
        (f"{p}Channel", ch.name),
        (f"{p}ChannelState", str(int(ch.state))),
        (f"{p}ChannelStateDesc", ch.state.desc),
        (f"{p}CallerIDNum", unknown(ch.caller_num)),
        (f"{p}CallerIDName", unknown(ch.caller_name)),
        (f"{p}ConnectedLineNum", unknown(ch.connected_num)),
        (f"{p}ConnectedLineName", unknown(ch.connected_name)),
        (f"{p}Language", ch.language),
        (f"{p}AccountCode", ch.accountcode),
        (f"{p}Context", ch.context),
        (f"{p}Exten", ch.exten),
        (f"{p}Priority", str(ch.priority)),
        (f"{p}Uniqueid", ch.id),
        (f"{p}Linkedid", ch.linkedid),
    ]


def bridge_headers(br: Bridge, technology: str | None = None, prefix: str = "") -> Headers:
    p = f"{prefix}Bridge"
    return [
        (f"{p}Uniqueid", br.id),
        (f"{p}Type", br.ami_type),
        (f"{p}Technology", technology or br.technology),
        (f"{p}Creator", unknown(br.creator)),
        (f"{p}Name", unknown(br.name)),
        (f"{p}NumChannels", str(len(br.channels))),
        (f"{p}VideoSourceMode", br.video_mode),
    ]


_SECOND_CACHE: dict[int, str] = {}


def ari_time(ts: float) -> str:
    """``2026-11-22T17:52:21.720+0000`` (UTC, milliseconds, truncated as Asterisk does)."""
    whole = int(ts)
    head = _SECOND_CACHE.get(whole)
    if head is None:
        if len(_SECOND_CACHE) > 64:
            _SECOND_CACHE.clear()
        head = _SECOND_CACHE[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{head}.{int((ts - whole) * 1000):03d}+0000"


def cel_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ts)))


def channel_json(ch: Channel) -> dict[str, Any]:
    return {
        "id": ch.id,
        "name": ch.name,
        "state": ch.state.desc,
        "protocol_id": ch.protocol_id,
        "caller": {"name": ch.caller_name, "number": ch.caller_num},
        "connected": {"name": ch.connected_name, "number": ch.connected_num},
        "accountcode": ch.accountcode,
        "dialplan": {
            "context": ch.context,
            "exten": ch.exten,
            "priority": ch.priority,
            "app_name": ch.app_name,
            "app_data": ch.app_data,
        },
        "creationtime": ari_time(ch.created),
        "language": ch.language,
    }


def bridge_json(br: Bridge, technology: str | None = None) -> dict[str, Any]:
    return {
        "id": br.id,
        "technology": technology or br.technology,
        "bridge_type": br.bridge_type,
        "bridge_class": br.bridge_class,
        "creator": br.creator,
        "name": br.name,
        "channels": [c.id for c in br.channels],
        "creationtime": ari_time(br.created),
        "video_mode": br.video_mode,
    }
