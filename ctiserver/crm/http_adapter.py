"""The generic HTTP CRM adapter: Jinja2 templates for the request, a JSON-path mapping for the reply.

Configured under ``crm.http`` — for example::

    crm:
      http:
        lookup_url: "https://crm.example/api/contacts?phone={{ number | urlencode }}"
        headers: {Authorization: "Bearer {{ secrets.api_key }}"}
        secrets: {api_key: "..."}          # SecretStr; env CTISERVER_CRM__HTTP__SECRETS__API_KEY_FILE=...
        mapping: {id: "$.data[0].id", name: "$.data[0].full_name", company: "$.data[0].org.name"}
        contact_url: "https://crm.example/contacts/{{ contact.id }}"

A 404 or a reply without ``mapping.id`` means "not found" (cached ``negative_ttl``); timeouts, network
errors and 5xx are retried ``retries`` times and then raise ``CrmUnavailable`` (not cached).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ctiserver.clock import Clock
from ctiserver.crm.cache import TtlCache
from ctiserver.crm.jsonpath import compile_path, extract
from ctiserver.crm.model import Contact, CrmUnavailable
from ctiserver.logs import get_logger

log = get_logger(__name__)

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_LENIENT = SandboxedEnvironment(autoescape=False)


class HttpCrmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lookup_url: str
    method: str = Field("GET", pattern="^(GET|POST)$")
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    mapping: dict[str, str] = Field(default_factory=lambda: {"id": "$.id", "name": "$.name"})
    contact_url: str = ""
    push_url: str = ""  # where call events are POSTed (optional); Jinja2 with ``event``
    push_body: str = "{{ event | tojson }}"  # Jinja2 with ``event`` (the envelope) and ``contact``
    push_events: tuple[str, ...] = ("call.ended", "call.disposition")
    timeout: float = 2.0
    retries: int = Field(1, ge=0, le=5)
    retry_delay: float = 0.2
    cache_ttl: float = 300.0
    negative_ttl: float = 60.0

    @field_validator("mapping")
    @classmethod
    def _paths_compile(cls, value: dict[str, str]) -> dict[str, str]:
        if "id" not in value:
            raise ValueError("mapping needs an 'id' path")
        for key, path in value.items():
            if key not in Contact.model_fields:
                raise ValueError(f"mapping key {key!r} is not a contact field")
            compile_path(path)
        return value

    @field_validator("lookup_url", "contact_url", "push_url", "body", "push_body")
    @classmethod
    def _template_compiles(cls, value: str | None) -> str | None:
        if value:
            try:
                _ENV.from_string(value)
            except TemplateSyntaxError as exc:
                raise ValueError(f"template error: {exc.message}") from None
        return value


class HttpCrmAdapter:
    def __init__(
        self, config: HttpCrmConfig, clock: Clock, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.config = config
        self._clock = clock
        self._session = session
        self._own_session = session is None
        self._url = _ENV.from_string(config.lookup_url)
        self._headers = {k: _ENV.from_string(v) for k, v in config.headers.items()}
        self._body = _ENV.from_string(config.body) if config.body else None
        self._contact_url = _ENV.from_string(config.contact_url) if config.contact_url else None
        self._push_url = _LENIENT.from_string(config.push_url) if config.push_url else None
        self._push_body = _LENIENT.from_string(config.push_body)  # an unknown caller has an empty contact
        self.pushed = 0
        self._mapping = {k: compile_path(v) for k, v in config.mapping.items()}
        self.cache: TtlCache[Contact] = TtlCache(clock, config.cache_ttl, config.negative_ttl)
        self.requests = 0

    async def __aenter__(self) -> HttpCrmAdapter:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _vars(self, e164: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        secrets = {k: v.get_secret_value() for k, v in self.config.secrets.items()}
        return {"number": e164, "digits": e164.lstrip("+"), "secrets": secrets, **extra}

    async def lookup(self, e164: str, **extra: Any) -> Contact | None:
        hit = self.cache.get(e164)
        if hit is not None:
            return hit.value
        contact = await self._fetch(e164, extra)
        self.cache.put(e164, contact)
        return contact

    async def _fetch(self, e164: str, extra: Mapping[str, Any]) -> Contact | None:
        variables = self._vars(e164, extra)
        url = self._url.render(variables)
        headers = {k: t.render(variables) for k, t in self._headers.items()}
        body = self._body.render(variables) if self._body else None
        last = "no attempt"
        for attempt in range(self.config.retries + 1):
            if attempt:
                await self._clock.sleep(self.config.retry_delay * (2 ** (attempt - 1)))
            try:
                status, payload = await self._request(url, headers, body)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if status == 404:
                return None
            if status >= 500 or status == 429:
                last = f"HTTP {status}"
                continue
            if status >= 400:
                raise CrmUnavailable(f"CRM refused the lookup: HTTP {status}")
            return self._map(payload)
        log.warning("crm lookup failed", error=last)  # the URL may carry secrets: never logged
        raise CrmUnavailable(f"CRM lookup failed: {last}")

    async def _request(self, url: str, headers: dict[str, str], body: str | None) -> tuple[int, Any]:
        assert self._session is not None, "use 'async with HttpCrmAdapter(...)'"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        self.requests += 1
        async with asyncio.timeout(self.config.timeout):
            async with self._session.request(
                self.config.method, url, headers=headers, data=body, timeout=timeout
            ) as resp:
                if resp.status >= 300:
                    return resp.status, None
                text = await resp.text()
                return resp.status, json.loads(text) if text.strip() else None

    async def push(self, event: Mapping[str, Any], contact: Mapping[str, Any] | None = None) -> bool:
        """POST one call event to the CRM (``push_url``), retried like lookups; False when it failed."""
        if self._push_url is None:
            return False
        variables = {
            "event": dict(event),
            "contact": dict(contact or {}),
            "secrets": self._vars("", {})["secrets"],
        }
        try:
            url = self._push_url.render(variables)
            headers = {k: t.render(variables) for k, t in self._headers.items()}
            body = self._push_body.render(variables)
        except TemplateError as exc:
            log.warning("crm push template failed", error=str(exc))
            return False
        headers.setdefault("Content-Type", "application/json")
        for attempt in range(self.config.retries + 1):
            if attempt:
                await self._clock.sleep(self.config.retry_delay * (2 ** (attempt - 1)))
            assert self._session is not None, "use 'async with HttpCrmAdapter(...)'"
            try:
                async with asyncio.timeout(self.config.timeout):
                    async with self._session.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        if resp.status < 300:
                            self.pushed += 1
                            return True
                        if 400 <= resp.status < 500 and resp.status != 429:
                            break
            except (aiohttp.ClientError, TimeoutError):
                continue
        log.warning("crm push failed", type=event.get("type"))
        return False

    def _map(self, payload: Any) -> Contact | None:
        values = {k: extract(payload, steps) for k, steps in self._mapping.items()}
        if values.get("id") in (None, ""):
            return None
        fields: dict[str, Any] = {"source": "http"}
        for key, value in values.items():
            if value is None:
                continue
            if key in ("phones", "tags"):
                fields[key] = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            elif key == "vip":
                fields[key] = bool(value)
            else:
                fields[key] = str(value)
        contact = Contact(**fields)
        if self._contact_url is not None:
            contact = contact.model_copy(
                update={"url": self._contact_url.render(contact=contact.model_dump())}
            )
        return contact
