"""The retrying forwarder: delivers queued dossiers, and then the citizen's withdrawals and supplements of
them, to their agencies until each says it has them.

An agency's final "no" (a 4xx other than 408/425/429, `AgencyRefused`) ends the job: it is never retried,
and the citizen is told with the agency's reason (`core.forward_outcomes`). Outages, timeouts and 5xx
only postpone it, with backoff; operators see and handle jobs that keep failing with `superapp forward`.

It runs in every API process (and may run in several: leases keep two workers off the same job). It wakes
on `kick()` after a submission and otherwise polls, so jobs left by a crash or a restart are picked up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import forward_outcomes, forwarding
from core.background import RoundLoop, pause
from core.clock import utc_now
from core.db import Database, is_outage
from core.errors import DomainError
from core.models import ForwardJob
from services.errors import AgencyRefused
from services.registry import ServiceRegistry

log = logging.getLogger("superapp.forwarder")

Request = forwarding.ForwardRequest | forwarding.ActionRequest


class Forwarder(RoundLoop):
    task_name = "superapp-forwarder"

    def __init__(self, *, db: Database, registry: ServiceRegistry, poll_seconds: float, max_backoff: float,
                 lease_seconds: float = 60.0) -> None:
        self.db, self.registry = db, registry
        self.poll_seconds, self.max_backoff = poll_seconds, max_backoff
        self.lease = timedelta(seconds=lease_seconds)
        self._wake = asyncio.Event()
        super().__init__()

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                while not self._stopping.is_set() and await self.deliver_due() > 0:
                    pass
            except Exception as error:  # the loop must outlive a bad round; the log says why
                if not is_outage(error):  # an outage is logged once, when it starts, by `db.availability`
                    log.exception("forwarder round failed")
            await pause(self._stopping, self.poll_seconds, wake=self._wake)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """One round: lease the due jobs, call their agencies concurrently, record each outcome."""
        async def lease(session: AsyncSession) -> list[tuple[ForwardJob, Request]]:
            jobs = await forwarding.lease_due(session, now=utc_now(), lease=self.lease)
            return [(job, await forwarding.request_for(session, job)) for job in jobs]

        requests = await self.db.transaction(lease)
        await asyncio.gather(*(self._deliver(job.id or 0, job.service_code, request) for job, request in requests))
        return len(requests)

    async def _deliver(self, job_id: int, service_code: str,
                       request: forwarding.ForwardRequest | forwarding.ActionRequest) -> None:
        plugin = self.registry.get(service_code)
        what = request.action.value if isinstance(request, forwarding.ActionRequest) else "submit"
        reference: str | None = None
        try:
            if plugin is None:
                raise LookupError(f"service {service_code} is not loaded")
            if isinstance(request, forwarding.ActionRequest):
                await plugin.forward_action(request)
            else:
                reference = await plugin.forward(request)
        except AgencyRefused as refusal:
            # Only the status in the log: the agency's text may quote the citizen's data.
            log.warning("forward (%s) of dossier %s refused by %s (HTTP %d); the citizen is told", what,
                        request.dossier_code, service_code, refusal.status)
            status, detail = refusal.status, refusal.detail
            await self.db.transaction(lambda session: forward_outcomes.refused(
                session, job_id=job_id, status=status, reason=detail, now=utc_now()))
            return
        # NotImplementedError: a plug-in that cannot take this action yet; retried like an outage, visible in
        # last_error, so a fixed plug-in delivers it later instead of the citizen's request being dropped.
        except (DomainError, LookupError, NotImplementedError) as error:
            reason = getattr(error, "reason", None) or str(error)
            log.warning("forward (%s) of dossier %s to %s failed (%s); will retry", what, request.dossier_code,
                        service_code, reason)
            await self.db.transaction(lambda session: forwarding.mark_failed(
                session, job_id=job_id, error=reason, now=utc_now(), max_backoff=self.max_backoff))
            return
        await self.db.transaction(lambda session: forwarding.mark_delivered(
            session, job_id=job_id, reference=reference, now=utc_now()))
        log.info("dossier %s %s delivered to %s (%s)", request.dossier_code, what, service_code, reference or "-")
