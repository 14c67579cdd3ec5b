"""Calling one agency safely: a shared pooled client, a time budget, bounded retries, a bulkhead and a
circuit breaker, all per agency, so one slow or broken agency never drags the others down.

- one `httpx.AsyncClient` per agency (connection pooling), created lazily inside the running loop;
- identifiers never travel in URLs: a lookup by ID number is a `lookup` (POST with a JSON body), and a URL
  that carries an ID number is refused before it is sent;
- `timeout` is the budget of the whole call: waiting for a slot, every attempt and the backoff between;
- retries with jittered exponential backoff (tenacity) only for idempotent calls: GET, or a POST that
  carries an idempotency key the agency dedupes on; network errors, 5xx, 408 and 429 are retried, any
  other 4xx never: it is the agency's final "no" (`AgencyRefused`, with the reason it gave);
- an `asyncio.Semaphore` caps calls in flight to the agency (the bulkhead);
- within one GraphQL operation, identical reads (same path and question) share one call;
- a circuit breaker (purgatory) opens after `breaker_threshold` consecutive failures and lets one trial
  call through after `breaker_reset_seconds`; 4xx answers are the caller's fault and do not count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.messages.base import Event
from purgatory.domain.messages.events import ContextChanged
from purgatory.domain.model import OpenedState
from pydantic import TypeAdapter, ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from core import metrics
from core.log_redaction import ID_NUMBER
from services.agency_settings import AgencySettings
from services.call_sharing import call_key, shared
from services.errors import AgencyRefused, AgencyTimeout, AgencyUnavailable

log = logging.getLogger("superapp.agency")

M = TypeVar("M")

# 4xx answers that mean "not now" rather than "no": retried like a 5xx.
TRANSIENT_4XX = frozenset({408, 425, 429})
REASON_MAX = 500
_REASON_KEYS = ("reason", "message", "error", "detail", "title")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def agency_reason(status: int, body: str) -> str:
    """What the agency said when it refused: the first text field of a JSON body (`reason`, `message`,
    `error`, `detail`, `title`) or a short plain-text body; control characters and NUL dropped (the text is
    stored and shown to the citizen), cut to REASON_MAX. `HTTP <status>` when it said nothing usable."""
    text = body
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        found = [parsed[key] for key in _REASON_KEYS if isinstance(parsed.get(key), str) and parsed[key].strip()]
        text = found[0] if found else ""
    elif parsed is not None or body.lstrip().startswith("<"):
        text = ""
    cleaned = " ".join(_CONTROL.sub(" ", text).split())[:REASON_MAX]
    return cleaned or f"HTTP {status}"


class _Retryable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AgencyRejected(Exception):
    """A 4xx: the agency understood and refused; retrying would not help."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"agency answered {status}")
        self.status, self.body = status, body


class _Garbage(Exception):
    pass


class IdentifierInUrl(ValueError):
    """A plug-in put an ID number in a URL: a bug, refused before anything is sent (use `lookup`)."""


def _refuse_identifiers_in_url(path: str, params: Mapping[str, Any] | None) -> None:
    if any(ID_NUMBER.search(str(part)) for part in (path, *(params or {}).values())):
        raise IdentifierInUrl("an ID number in an agency URL: send it in the body (AgencyClient.lookup)")


class AgencyClient:
    def __init__(self, *, code: str, name_vi: str, name_en: str, settings: AgencySettings) -> None:
        self.code, self.name_vi, self.name_en, self.settings = code, name_vi, name_en, settings
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._breakers = AsyncCircuitBreakerFactory(default_threshold=settings.breaker_threshold,
                                                    default_ttl=settings.breaker_reset_seconds,
                                                    exclude=[AgencyRejected])
        self._breakers.add_listener(self._on_breaker_event)
        self.circuit = "closed"

    def _on_breaker_event(self, name: str, kind: str, event: Event) -> None:
        if isinstance(event, ContextChanged):
            self.circuit = event.state
            metrics.AGENCY_CIRCUIT.labels(service=self.code).set(0 if event.state == "closed" else 1)
            log.warning("agency %s circuit %s", name, event.state)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            assert self.settings.base_url is not None
            limits = httpx.Limits(max_connections=self.settings.max_concurrency,
                                  max_keepalive_connections=self.settings.max_concurrency)
            self._http = httpx.AsyncClient(base_url=self.settings.base_url, limits=limits,
                                           timeout=httpx.Timeout(self.settings.timeout), trust_env=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def get_json(self, path: str, params: dict[str, str] | None = None, *, missing_ok: bool = False) -> Any:
        """The agency's JSON answer; None for a 404 when `missing_ok` (the agency has no such record)."""
        try:
            return await self._read("GET", path, params, params=params)
        except AgencyRejected as error:
            if missing_ok and error.status == 404:
                return None
            raise self._unavailable(f"HTTP_{error.status}") from None

    async def lookup(self, path: str, body: Mapping[str, Any], *, missing_ok: bool = False) -> Any:
        """A read whose question carries an identifier: `POST path` with the question as a JSON body, never in
        the URL (URLs end up in access logs, proxies and httpx's own log). Safe to repeat, so it is retried
        like a GET; None for a 404 when `missing_ok`."""
        try:
            return await self._read("POST", path, dict(body), json=dict(body))
        except AgencyRejected as error:
            if missing_ok and error.status == 404:
                return None
            raise self._unavailable(f"HTTP_{error.status}") from None

    async def _read(self, method: str, path: str, arguments: Any, **kwargs: Any) -> Any:
        """An idempotent read; within one GraphQL operation, identical reads share one call
        (`services/call_sharing.py`), a 4xx included, so each caller maps it as it would its own."""
        key = call_key(self.code, method, path, arguments)
        return await shared(key, lambda: self._call(method, path, idempotent=True, **kwargs))

    async def post_json(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            return await self._call("POST", path, idempotent=idempotency_key is not None, json=body,
                                    headers=headers)
        except AgencyRejected as error:
            raise AgencyRefused(service=self.code, agency_vi=self.name_vi, agency_en=self.name_en,
                                status=error.status, detail=agency_reason(error.status, error.body)) from None

    def parse(self, shape: type[M], data: Any) -> M:
        """Valid JSON in the wrong shape is as useless as garbage: AGENCY_UNAVAILABLE (BAD_RESPONSE)."""
        try:
            return TypeAdapter(shape).validate_python(data)
        except ValidationError:
            log.warning("agency %s answered JSON in an unexpected shape", self.code)
            raise self._unavailable("BAD_RESPONSE") from None

    def _unavailable(self, reason: str) -> AgencyUnavailable:
        return AgencyUnavailable(service=self.code, agency_vi=self.name_vi, agency_en=self.name_en, reason=reason)

    async def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        _refuse_identifiers_in_url(path, kwargs.get("params"))
        outcome = "unavailable"
        try:
            async with asyncio.timeout(self.settings.timeout):
                breaker = await self._breakers.get_breaker(self.code)
                async with breaker:
                    answer = await self._attempts(method, path, idempotent=idempotent, **kwargs)
            outcome = "ok"
            return answer
        except AgencyRejected:
            outcome = "rejected"
            raise
        except TimeoutError:
            outcome = "timeout"
            log.warning("agency %s %s %s: time budget of %.2fs spent", self.code, method, path, self.settings.timeout)
            raise AgencyTimeout(service=self.code, agency_vi=self.name_vi, agency_en=self.name_en) from None
        except OpenedState:
            outcome = "circuit_open"
            raise self._unavailable("CIRCUIT_OPEN") from None
        except _Retryable as error:
            log.warning("agency %s %s %s failed: %s", self.code, method, path, error.reason)
            raise self._unavailable(error.reason) from None
        except _Garbage:
            log.warning("agency %s %s %s answered something that is not JSON", self.code, method, path)
            raise self._unavailable("BAD_RESPONSE") from None
        finally:
            metrics.AGENCY_CALLS.labels(service=self.code, outcome=outcome).inc()

    async def _attempts(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(1 + (self.settings.retries if idempotent else 0)),
            wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05),
            retry=retry_if_exception_type(_Retryable), reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, **kwargs)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _once(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self._slots:
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TimeoutException as error:
                raise _Retryable("TIMEOUT") from error
            except httpx.TransportError as error:
                raise _Retryable("UNREACHABLE") from error
        if response.status_code >= 500 or response.status_code in TRANSIENT_4XX:
            raise _Retryable(f"HTTP_{response.status_code}")
        if response.status_code >= 400:
            raise AgencyRejected(response.status_code, response.text[:4000])
        try:
            return response.json()
        except ValueError as error:
            raise _Garbage from error
