"""Fan-out of events to the connected AMI sessions and ARI websockets: each event is encoded once per
audience."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ctiserver.clock import Clock
from ctiserver.pbx.ami.codec import encode_message
from ctiserver.sim.ami_filter import AmiFilter, passes
from ctiserver.sim.ari_filter import EventFilter
from ctiserver.sim.fmt import ari_time


class AmiSink(Protocol):
    events_on: bool
    filters: list[AmiFilter]

    def send(self, data: bytes) -> None: ...


class AriSink(Protocol):
    app: str
    subscribe_all: bool

    def send(self, text: str) -> None: ...


def encode_headers(headers: Iterable[tuple[str, str]]) -> bytes:
    """One AMI frame. Fast path: a plain join, checked with one count of line breaks; a value holding a line
    break (which would end the frame early) goes through the protocol codec's validating encoder after
    flattening the break to a space."""
    pairs = list(headers)
    text = "".join([f"{k}: {v}\r\n" for k, v in pairs]) + "\r\n"
    if text.count("\n") == len(pairs) + 1 and "\r" not in text.replace("\r\n", ""):
        return text.encode("utf-8")
    clean = [(k, v.replace("\r", " ").replace("\n", " ")) for k, v in pairs]
    return encode_message(clean)


class Hub:
    def __init__(self, clock: Clock, systemname: str, asterisk_id: str) -> None:
        self.clock = clock
        self.systemname = systemname
        self.asterisk_id = asterisk_id
        self.ami_sinks: list[AmiSink] = []
        self.ari_sinks: list[AriSink] = []
        self.ari_filters: dict[str, EventFilter] = {}  # per application (PUT /applications/{name}/eventFilter)
        self.ami_taps: list[Callable[[list[tuple[str, str]]], None]] = []
        self.ami_count = 0
        self.ari_count = 0

    def connected_apps(self) -> set[str]:
        return {s.app for s in self.ari_sinks}

    # -- AMI ---------------------------------------------------------------------------------------
    def ami(self, name: str, privilege: str, body: list[tuple[str, str]]) -> None:
        headers = [
            ("Event", name),
            ("Privilege", privilege),
            ("Timestamp", f"{self.clock.now():.6f}"),
            ("SystemName", self.systemname),
            *body,
        ]
        self.ami_raw(headers)

    def ami_raw(self, headers: list[tuple[str, str]]) -> None:
        self.ami_count += 1
        for tap in self.ami_taps:
            tap(headers)
        sinks = [s for s in self.ami_sinks if s.events_on and (not s.filters or passes(s.filters, headers))]
        if not sinks:
            return
        data = encode_headers(headers)
        for sink in sinks:
            sink.send(data)

    # -- ARI ---------------------------------------------------------------------------------------
    def ari(
        self,
        type_: str,
        apps: set[str],
        body: list[tuple[str, Any]] | None = None,
        pre: list[tuple[str, Any]] | None = None,
    ) -> None:
        """Send an ARI event to the websockets of ``apps`` plus every subscribeAll connection.
        Field order: ``pre`` fields, ``type``, ``timestamp``, ``body`` fields, ``asterisk_id``,
        ``application``."""
        targets = [s for s in self.ari_sinks if s.app in apps or s.subscribe_all]
        if self.ari_filters:
            targets = [s for s in targets if s.app not in self.ari_filters or self.ari_filters[s.app].passes(type_)]
        if not targets:
            return
        self.ari_count += 1
        obj: dict[str, Any] = dict(pre or ())
        obj["type"] = type_
        if type_ == "DeviceStateChanged":
            obj["application"] = ""  # Asterisk writes it second for this event (scenario 13)
        obj["timestamp"] = ari_time(self.clock.now())
        obj.update(body or ())
        obj["asterisk_id"] = self.asterisk_id
        by_app: dict[str, str] = {}
        for sink in targets:
            text = by_app.get(sink.app)
            if text is None:
                obj["application"] = sink.app
                text = by_app[sink.app] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            sink.send(text)
