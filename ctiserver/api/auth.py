"""Bearer tokens and roles.

A token is ``cti_<id>_<secret>``; only ``sha256(secret)`` is stored, compared in constant time.
Roles: ``agent`` (bound to one agent id; sees and controls only that agent's calls), ``supervisor``,
``admin``, ``crm`` (read calls/contacts, write contacts/dispositions, subscribe to events), and ``monitor``
(a scraper's token: ``/metrics`` and ``/health`` only — nothing under ``/api/``, no events). Failed
authentications are rate-limited per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiohttp import web

from ctiserver.clock import Clock


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    CRM = "crm"
    MONITOR = "monitor"  # Prometheus and probes: /metrics and /health, nothing else


ALL_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.CRM})  # every API user; not MONITOR
STAFF = frozenset({Role.SUPERVISOR, Role.ADMIN})
METRICS_ROLES = STAFF | {Role.MONITOR}


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: str
    role: Role
    agent: str | None = None
    name: str = ""

    def is_agent(self) -> bool:
        return self.role is Role.AGENT


PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    secret_hash: str
    role: Role
    agent: str | None
    name: str
    created_at: float
    revoked: bool = False


class TokenStore(Protocol):
    async def add(self, record: TokenRecord) -> None: ...

    async def get(self, token_id: str) -> TokenRecord | None: ...

    async def revoke(self, token_id: str) -> bool: ...

    async def list(self) -> list[TokenRecord]: ...


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(role: Role, agent: str | None, name: str, now: float) -> tuple[str, TokenRecord]:
    """A fresh token (shown once) and the record to store."""
    if role is Role.AGENT and not agent:
        raise ValueError("an agent token needs --agent")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    record = TokenRecord(
        token_id, hash_secret(secret), role, agent if role is Role.AGENT else None, name, now
    )
    return f"cti_{token_id}_{secret}", record


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "cti" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class InMemoryTokenStore:
    def __init__(self) -> None:
        self._records: dict[str, TokenRecord] = {}

    async def add(self, record: TokenRecord) -> None:
        self._records[record.id] = record

    async def get(self, token_id: str) -> TokenRecord | None:
        return self._records.get(token_id)

    async def revoke(self, token_id: str) -> bool:
        rec = self._records.get(token_id)
        if rec is None:
            return False
        self._records[token_id] = _revoked(rec)
        return True

    async def list(self) -> list[TokenRecord]:
        return list(self._records.values())


def _revoked(rec: TokenRecord) -> TokenRecord:
    return TokenRecord(rec.id, rec.secret_hash, rec.role, rec.agent, rec.name, rec.created_at, True)


class FailureLimiter:
    """At most ``limit`` failed authentications per ``window`` seconds per client; then refuse for a while."""

    def __init__(self, clock: Clock, limit: int = 10, window: float = 60.0) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        q = self._fails.setdefault(client, deque())
        cutoff = self._clock.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked_for(self, client: str) -> float:
        q = self._recent(client)
        if len(q) < self.limit:
            return 0.0
        return max(0.0, q[0] + self.window - self._clock.monotonic())

    def failed(self, client: str) -> None:
        self._recent(client).append(self._clock.monotonic())
        if len(self._fails) > 10_000:  # bounded memory under a spray of addresses
            self._fails.pop(next(iter(self._fails)))


class Authenticator:
    def __init__(
        self,
        store: TokenStore,
        clock: Clock,
        limiter: FailureLimiter | None = None,
        *,
        agent_recordings: bool = False,
    ) -> None:
        self.store = store
        self.limiter = limiter or FailureLimiter(clock)
        self.agent_recordings = agent_recordings  # may the handling agent download its calls' recordings

    async def verify(self, token: str) -> Principal | None:
        parts = split_token(token)
        if parts is None:
            return None
        record = await self.store.get(parts[0])
        if record is None or record.revoked:
            return None
        if not hmac.compare_digest(record.secret_hash, hash_secret(parts[1])):
            return None
        return Principal(record.id, record.role, record.agent, record.name)
