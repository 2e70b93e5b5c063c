"""Read back from the ctiserver API what the daemon recorded for a call, found by its caller name (the tag).

Runs in a CLI process (no event loop), so plain blocking ``urllib`` is fine here.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any


class ReadBackError(RuntimeError):
    pass


def _get(api: str, token: str, path: str, query: Mapping[str, Any] | None = None) -> Any:
    url = api.rstrip("/") + "/api" + path
    if query:
        url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    req = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read().decode("utf-8") or "null")
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read().decode("utf-8"))
            err = err.get("error", err)
            detail = f"{err.get('code', '')}: {err.get('message', '')}"
        except (ValueError, AttributeError):
            detail = exc.reason
        raise ReadBackError(f"GET {path}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReadBackError(f"cannot reach {api}: {getattr(exc, 'reason', exc)}") from None


def _items(data: Any) -> list[Mapping[str, Any]]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in ("calls", "items", "results"):
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def caller_name(call: Mapping[str, Any]) -> str:
    caller = call.get("caller")
    if isinstance(caller, Mapping):
        return str(caller.get("name") or "")
    return str(call.get("caller_name") or call.get("from_name") or "")


def find_call(api: str, token: str, tag: str, *, since: float, timeout: float) -> Mapping[str, Any]:
    """The call whose caller name is ``tag``, as recorded once it ended (history); if it is still going on
    when ``timeout`` runs out, the live record."""
    deadline = time.monotonic() + timeout
    while True:
        ended = _items(_get(api, token, "/calls/history", {"since": since, "limit": 500}))
        match = next((c for c in ended if caller_name(c) == tag), None)
        if match is None and time.monotonic() >= deadline:
            match = next((c for c in _items(_get(api, token, "/calls")) if caller_name(c) == tag), None)
        if match is not None:
            call_id = str(match.get("id") or match.get("call_id"))
            detail = _get(api, token, f"/calls/{urllib.parse.quote(call_id, safe='')}")
            return detail if isinstance(detail, Mapping) else match
        if time.monotonic() >= deadline:
            raise ReadBackError(f"no call with caller name {tag!r} since {since:.0f} after {timeout:g} s")
        time.sleep(0.5)


def _node(step: Any) -> str:
    if isinstance(step, Mapping):
        node = str(step.get("node") or step.get("step") or "")
        script = step.get("script")
        return f"{script}:{node}" if script else node
    return str(step)


def summarise(call: Mapping[str, Any]) -> dict[str, Any]:
    """The call as ctiserver recorded it: caller, IVR path (script:node), queue, agent, outcome, legs."""
    raw_ivr = call.get("ivr")
    ivr: Mapping[str, Any] = raw_ivr if isinstance(raw_ivr, Mapping) else {}
    path = call.get("ivr_path") or ivr.get("path") or []
    queues = [q for q in call.get("queues") or [] if isinstance(q, Mapping)]
    queue = call.get("queue") or (queues[-1].get("queue") if queues else "") or ""
    if isinstance(queue, Mapping):
        queue = queue.get("name") or queue.get("queue") or ""
    agents = [str(a) for a in call.get("agents") or [] if a] + [
        str(q["agent"]) for q in queues if q.get("agent")
    ]
    agent = call.get("agent") or (agents[0] if agents else "")
    caller = call.get("caller")
    number = (
        caller.get("number")
        if isinstance(caller, Mapping)
        else call.get("caller_num") or call.get("caller_number")
    )
    legs = []
    for leg in call.get("legs") or []:
        legs.append(
            {
                "channel": str(leg.get("channel") or leg.get("name") or leg.get("uniqueid") or ""),
                "role": str(leg.get("role") or ""),
                "answered": bool(leg.get("answered")),
                "hangup_cause": leg.get("hangup_cause"),
            }
        )
    outcome = call.get("outcome") or call.get("end_reason") or call.get("state") or ""
    if queues and queues[-1].get("outcome"):
        outcome = f"{outcome} (queue: {queues[-1]['outcome']})"
    return {
        "id": str(call.get("id") or call.get("call_id") or ""),
        "caller": f"{caller_name(call)} <{number or ''}>",
        "ivr_path": [_node(p) for p in path],
        "queue": str(queue),
        "agent": str(agent),
        "outcome": str(outcome),
        "legs": legs,
    }
