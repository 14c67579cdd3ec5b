"""Who is charged for a request, and how much: the citizen of a valid token, otherwise the client IP; an
agency's callbacks by the service code whose secret signed them. Limits are `settings.quota`.

**Decision (anonymous and CGNAT):** a request with a valid token counts against its citizen only, one
without (or with a bad one) against its client IP only. Mobile carriers put thousands of citizens behind one
address (carrier-grade NAT), so a per-IP limit on signed-in traffic would let one neighbour's flood lock out
everyone on that address; a citizen's flood is stopped by the citizen quota, and the public catalogue
(the only thing an anonymous request gets) by the IP quota. The client IP is the connection's peer as
uvicorn reports it: behind a proxy, run uvicorn with `--forwarded-allow-ips` so it reads X-Forwarded-For.

Keys hold a digest of the subject or address, never the ID number or IP itself: the quota table is not a
place for personal data.
"""

from __future__ import annotations

import hashlib

from api.auth import Principal
from core.db import Database
from core.errors import DomainError, ErrorCode
from core.quota import DatabaseQuotaStore, Limit, MemoryQuotaStore, QuotaStore, Verdict
from core.settings import QuotaSettings, Settings


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RateLimited(DomainError):
    """Over a quota: RATE_LIMITED with the seconds to wait (`extensions.retryAfter`, `Retry-After`)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, retry_after=verdict.retry_after_seconds)
        self.retry_after = verdict.retry_after_seconds


class Quotas:
    def __init__(self, settings: QuotaSettings, store: QuotaStore) -> None:
        self.settings, self.store = settings, store
        self._citizen = Limit(settings.citizen_limit, settings.citizen_period_seconds)
        self._ip = Limit(settings.ip_limit, settings.ip_period_seconds)
        self._service = Limit(settings.service_limit, settings.service_period_seconds)

    @classmethod
    def for_app(cls, settings: Settings, db: Database) -> Quotas:
        """The store `settings.quota.backend` names; `auto` shares through PostgreSQL (several workers),
        and keeps state in process on SQLite (one server process writes a SQLite file anyway)."""
        backend = settings.quota.backend
        shared = backend == "database" or (backend == "auto" and not settings.is_sqlite)
        return cls(settings.quota, DatabaseQuotaStore(db) if shared else MemoryQuotaStore())

    async def charge_caller(self, *, principal: Principal | None, client_host: str | None, cost: int) -> None:
        """Charge one operation to its citizen, or to its client IP when anonymous; RateLimited over."""
        if not self.settings.enabled:
            return
        if principal is not None:
            verdict = await self.store.charge(f"citizen:{_digest(principal.id_number)}", cost, self._citizen)
        else:
            verdict = await self.store.charge(f"ip:{_digest(client_host or 'unknown')}", cost, self._ip)
        if not verdict.allowed:
            raise RateLimited(verdict)

    async def charge_service(self, code: str) -> Verdict:
        """Charge one signed status event to the agency service that signed it."""
        if not self.settings.enabled:
            return Verdict(True)
        return await self.store.charge(f"service:{code}", 1, self._service)
