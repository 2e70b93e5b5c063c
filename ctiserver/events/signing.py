"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"`` with the subscriber's secret.

Headers of every delivery::

    X-CTI-Event-Id: <event id>            (the idempotency key: at-least-once delivery may repeat it)
    X-CTI-Timestamp: <unix seconds>
    X-CTI-Signature: t=<unix seconds>,v1=<hex hmac-sha256>

Verify (the receiver side, 5 lines)::

    import hmac, hashlib, time
    def verify(secret: bytes, body: bytes, header: str, tolerance: int = 300) -> bool:
        t, v1 = (kv.split("=", 1)[1] for kv in header.split(","))
        mac = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, v1) and abs(time.time() - int(t)) < tolerance
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CTI-Signature"
TIMESTAMP_HEADER = "X-CTI-Timestamp"
EVENT_ID_HEADER = "X-CTI-Event-Id"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float, tolerance: float = 300.0) -> bool:
    try:
        parts = dict(kv.split("=", 1) for kv in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given) and abs(now - timestamp) <= tolerance
