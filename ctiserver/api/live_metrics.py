"""The contact centre's live figures on ``/metrics``, read from the services at scrape time (a Prometheus
``Collector``): what an operations team alerts on — calls waiting and the longest wait per queue, the service
level and the calls offered / answered / abandoned over the live windows, agents by state, and per dialler
campaign its state, the abandonment rate over the cap's window against the cap (AMD's estimated false positives
included), the lines ringing, whether it is dialling predictive now or held back (and why), its outcomes.

Nothing is copied into the API: each scrape asks the services (``QueuesService``, ``AgentsService``, the
``DialerService``'s runners), as the gauges of ``metrics.py`` do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ctiserver.acd.agent_state import AgentState
from ctiserver.api.services import AgentsService, QueuesService

WINDOW_KINDS = ("offered", "answered", "abandoned")


class LiveFigures:
    def __init__(self, queues: QueuesService | None, agents: AgentsService | None, dialer: Any | None) -> None:
        self.queues = queues
        self.agents = agents
        self.dialer = dialer  # DialerService (``runners``), or None

    def describe(self) -> Iterable[Metric]:
        return ()  # no collect() at registration: the services may not be running yet

    def collect(self) -> Iterator[Metric]:
        if self.queues is not None:
            yield from _queues(self.queues.queue_stats())
        if self.agents is not None:
            yield _agents(self.agents.list_agents())
        if self.dialer is not None:
            yield from _campaigns([r.live_stats() for r in self.dialer.runners.values()])


def _queues(stats: Iterable[Any]) -> Iterator[Metric]:
    waiting = GaugeMetricFamily("ctiserver_queue_waiting", "Calls waiting in the queue now", labels=["queue"])
    longest = GaugeMetricFamily(
        "ctiserver_queue_longest_wait_seconds", "The longest wait of the calls waiting now", labels=["queue"]
    )
    level = GaugeMetricFamily(
        "ctiserver_queue_service_level",
        "Share of the calls offered answered within the queue's service-level time, over the window",
        labels=["queue", "window"],
    )
    calls = GaugeMetricFamily(
        "ctiserver_queue_calls",
        "Calls offered / answered / abandoned over the window",
        labels=["queue", "window", "kind"],
    )
    for q in stats:
        name = str(q["queue"])
        waiting.add_metric([name], float(q.get("waiting") or 0))
        longest.add_metric([name], float(q.get("longest_wait") or 0.0))
        for window, kpis in (q.get("windows") or {}).items():
            if kpis.get("service_level") is not None:
                level.add_metric([name, window], float(kpis["service_level"]))
            for kind in WINDOW_KINDS:
                calls.add_metric([name, window, kind], float(kpis.get(kind) or 0))
    yield from (waiting, longest, level, calls)


def _agents(agents: Iterable[Any]) -> Metric:
    """Every state, 0 when nobody is in it: an alert on "no agent ready" needs the series to exist."""
    family = GaugeMetricFamily("ctiserver_agents", "Agents by state", labels=["state"])
    counts = Counter(str(a.get("state")) for a in agents)
    for state in sorted({*(s.value for s in AgentState), *counts}):
        family.add_metric([state], float(counts[state]))
    return family


def _campaigns(stats: Iterable[dict[str, Any]]) -> Iterator[Metric]:
    def gauge(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"ctiserver_dialer_{name}", doc, labels=["campaign", *labels])

    state = gauge("campaign_state", "1 for the campaign's state now", "state")
    rate = gauge("abandon_rate", "Abandoned / live answers over the cap's window, as the law counts them")
    cap = gauge("abandon_cap", "The campaign's abandonment cap")
    fp = gauge("amd_false_positives", "AMD's estimated false positives in the window (counted as abandoned)")
    fp_rate = gauge("amd_false_positive_rate", "The false-positive rate in use (the AMD audit's once measured)")
    ringing = gauge("lines_ringing", "Calls placed and not answered yet")
    predictive = gauge("predictive", "1 while the campaign paces predictive (0: progressive, preview, fallback)")
    held = gauge("held_back", "1 while a running campaign dials nothing, with the reason", "reason")
    outcomes = CounterMetricFamily(
        "ctiserver_dialer_outcomes",
        "Attempts ended, by outcome (since the daemon started)",
        labels=["campaign", "outcome"],
    )
    for s in stats:
        c = str(s["campaign"])
        state.add_metric([c, str(s["state"])], 1.0)
        rate.add_metric([c], float(s["abandon_rate_window"]))
        cap.add_metric([c], float(s["abandon_cap"]))
        fp.add_metric([c], float(s.get("amd_false_positives") or 0.0))
        fp_rate.add_metric([c], float(s.get("amd_false_positive_rate") or 0.0))
        ringing.add_metric([c], float(s["ringing"]))
        predictive.add_metric([c], 1.0 if s.get("pacing") == "predictive" else 0.0)
        if s.get("waiting"):
            held.add_metric([c, str(s["waiting"]["code"])], 1.0)
        for key, n in sorted((s.get("counters") or {}).items()):
            if key.startswith("outcome_"):
                outcomes.add_metric([c, key.removeprefix("outcome_")], float(n))
    yield from (state, rate, cap, fp, fp_rate, ringing, predictive, held, outcomes)
