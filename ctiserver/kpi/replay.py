"""Queue KPIs of a replayed AMI capture (``ctiserver replay --ami FILE --kpi``)."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TextIO

from ctiserver.calls.model import Call
from ctiserver.kpi.formulas import SegmentFact, SlPolicy, queue_kpis


def segment_facts(calls: Iterable[Call]) -> list[SegmentFact]:
    out = []
    for call in calls:
        snap = call.snapshot()
        legs = {leg["uniqueid"]: leg for leg in snap["legs"]}
        for seg in snap["queues"]:
            agent_leg = legs.get(seg.get("agent_uniqueid") or "")
            hold = 0.0
            if agent_leg:
                end = agent_leg.get("ended")
                hold = sum(max(0.0, (b if b is not None else end or a) - a) for a, b in agent_leg["hold"])
            out.append(SegmentFact.from_snapshot(seg, hold=hold))
    return out


def kpis_by_queue(calls: Iterable[Call], policy: SlPolicy | None = None) -> dict[str, dict[str, Any]]:
    by_queue: dict[str, list[SegmentFact]] = defaultdict(list)
    for fact in segment_facts(calls):
        by_queue[fact.queue].append(fact)
    return {q: queue_kpis(facts, policy).as_dict() for q, facts in sorted(by_queue.items())}


def print_kpi(messages: Iterable[object], out: TextIO, args: argparse.Namespace) -> int:
    """``ctiserver replay --ami FILE --kpi``: queue KPIs of the capture (offered, answered, abandoned,
    SL@T, ASA, AHT...), as JSON, one object per queue."""
    from ctiserver.calls.replay import track_messages

    policy = SlPolicy(seconds=float(getattr(args, "sl", None) or 20.0))
    tracker = track_messages(messages)
    out.write(json.dumps({"queues": kpis_by_queue(tracker.all_calls(), policy)}, indent=1) + "\n")
    return 0
