"""Prometheus metrics (``/metrics``) and the checks behind ``/health``.

Values owned by other services are read at scrape time through callbacks (``gauge_from``/``check``), so the
API holds no copies of other areas' state.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

POP_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter("ctiserver_events", "Domain events published", ["type"], registry=r)
        self.auth_failures = Counter("ctiserver_api_auth_failures", "Failed API authentications", registry=r)
        self.pop_latency = Histogram(
            "ctiserver_screen_pop_latency_seconds",
            "agent device ringing (event) -> pop frame sent on the agent's WebSocket",
            buckets=POP_BUCKETS,
            registry=r,
        )
        self.calls_active = Gauge("ctiserver_calls_active", "Calls in progress", registry=r)
        self.links = Gauge("ctiserver_pbx_link_up", "PBX link state (1 up)", ["link"], registry=r)
        self.webhook_backlog = Gauge("ctiserver_webhook_backlog", "Webhook deliveries pending", registry=r)
        self.ws_clients = Gauge("ctiserver_ws_clients", "Connected WebSocket clients", registry=r)
        self._checks: dict[str, Callable[[], bool]] = {}

    def check(self, name: str, fn: Callable[[], bool]) -> None:
        self._checks[name] = fn

    def health_checks(self) -> dict[str, bool]:
        out = {}
        for name, fn in self._checks.items():
            try:
                out[name] = bool(fn())
            except Exception:
                out[name] = False
        return out

    def render(self) -> tuple[bytes, str]:
        for name, ok in self.health_checks().items():
            if name.startswith(("ami", "ari")):
                self.links.labels(link=name).set(1 if ok else 0)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
