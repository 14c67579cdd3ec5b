"""`superapp worker`: drains the outbox in batches, pushes through FCM, texts through the SMS gateway.

Delivery is at least once: a row is marked sent only after FCM or the gateway accepted it, so a worker
killed between the two re-sends that row after its lease runs out. Each push carries the row's
`dedupeKey` (event and device) so the app shows a re-delivered copy once. Failures are retried with
exponential backoff and jitter, never sooner than Retry-After, until `SUPERAPP_NOTIFY_GIVE_UP_SECONDS`
after the status change; then the row fails and, if no channel reached the citizen, SMS takes over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from zoneinfo import ZoneInfo

from core import metrics
from core.backoff import backoff
from core.clock import utc_now
from core.db import Database, is_outage
from core.retention import run_on_schedule
from core.settings import Settings
from notifications import store
from notifications.fcm import FcmSender, PushMessage, PushOutcome, PushResult
from notifications.sms import HttpSmsGateway, NoSmsGateway, SmsError, SmsGateway
from notifications.store import Job, Settlement
from notifications.templates import sms_text

log = logging.getLogger("superapp.worker")
SMS_CONCURRENCY = 20
DUE_COUNT_SECONDS = 15.0  # how often the worker refreshes the outbox gauge (a capped count)


class Dispatcher:
    def __init__(self, *, db: Database, settings: Settings, push: FcmSender | None = None,
                 sms: SmsGateway | None = None, owner: str | None = None) -> None:
        self.db, self.settings, self.config = db, settings, settings.notifications
        self.push = push or FcmSender(self.config)
        gateway = self.config.sms_gateway_url
        self.sms: SmsGateway = sms or (HttpSmsGateway(gateway, timeout=self.config.sms_timeout_seconds)
                                       if gateway else NoSmsGateway())
        self.owner = owner or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.tz = ZoneInfo(settings.timezone)  # quiet hours are the citizen's wall clock
        self._counted_at: float | None = None

    async def run_once(self) -> int:
        """Lease one batch, deliver it, settle it; returns how many rows it handled."""
        await self._count_due()
        if not await store.has_due(self.db, utc_now()):
            return 0
        jobs = await store.claim(self.db, owner=self.owner, limit=self.config.worker_batch_size,
                                 lease_seconds=self.config.worker_lease_seconds, now=utc_now(), tz=self.tz)
        if not jobs:
            return 0
        pushes = [j for j in jobs if j.channel == "push"]
        texts = [j for j in jobs if j.channel == "sms"]
        settled = await asyncio.gather(self._push(pushes), self._texts(texts))
        settlements = [*settled[0], *settled[1]]
        now = utc_now()
        await store.settle(self.db, settlements, owner=self.owner, now=now,
                           give_up_seconds=self.config.notify_give_up_seconds)
        for settlement in settlements:
            outcome = store.final_state(settlement, now, self.config.notify_give_up_seconds)
            metrics.PUSHES.labels(channel=settlement.job.channel, outcome=outcome).inc()
        log.info("batch of %d: %d sent, %d to retry, %d dropped or failed", len(jobs),
                 sum(s.state == "sent" for s in settlements), sum(s.state == "retry" for s in settlements),
                 sum(s.state in ("dropped", "failed") for s in settlements))
        return len(jobs)

    async def _count_due(self) -> None:
        """The outbox depth for /metrics, refreshed every DUE_COUNT_SECONDS here and never by a scrape."""
        now = asyncio.get_running_loop().time()
        if self._counted_at is not None and now - self._counted_at < DUE_COUNT_SECONDS:
            return
        self._counted_at = now
        metrics.OUTBOX_DUE.set(await store.due_count(self.db, utc_now(), cap=metrics.OUTBOX_COUNT_CAP))

    async def run(self, stop: asyncio.Event) -> None:
        log.info("notification worker %s started", self.owner)
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception as error:  # a database or network hiccup must not end the worker; the lease protects rows
                if not is_outage(error):  # an outage is logged once, when it starts, by `Database.availability`
                    log.exception("notification batch failed; retrying shortly")
                handled = 0
            if handled == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.config.worker_poll_seconds)
                except TimeoutError:
                    pass

    async def aclose(self) -> None:
        await self.push.aclose()
        await self.sms.aclose()

    def _retry_delay(self, job: Job, retry_after: float | None) -> float:
        return backoff(job.attempts, minimum=self.config.notify_min_backoff_seconds,
                             maximum=self.config.notify_max_backoff_seconds, retry_after=retry_after)

    async def _push(self, jobs: list[Job]) -> list[Settlement]:
        if not jobs:
            return []
        messages = [PushMessage(token=j.token or "", locale=j.locale, dedupe_key=j.dedupe_key, subject=j.subject)
                    for j in jobs]
        try:
            results = await self.push.send(messages)
        except Exception as error:  # the SDK could not even start the batch: retry all of it
            log.warning("FCM batch failed: %s", type(error).__name__)
            results = [PushResult(PushOutcome.RETRY, type(error).__name__)] * len(jobs)
        return [self._settle_push(j, r) for j, r in zip(jobs, results, strict=True)]

    def _settle_push(self, job: Job, result: PushResult) -> Settlement:
        if result.outcome is PushOutcome.SENT:
            return Settlement(job, "sent")
        if result.outcome is PushOutcome.DROP_TOKEN:
            return Settlement(job, "dropped", result.error, drop_token=True)
        if result.outcome is PushOutcome.FAILED:
            return Settlement(job, "failed", result.error)
        return Settlement(job, "retry", result.error, delay=self._retry_delay(job, result.retry_after))

    async def _texts(self, jobs: list[Job]) -> list[Settlement]:
        gate = asyncio.Semaphore(SMS_CONCURRENCY)

        async def one(job: Job) -> Settlement:
            async with gate:
                try:
                    await self.sms.send(phone=job.phone or "", reference=job.dedupe_key,
                                        text=sms_text(job.subject, ascii_only=self.config.sms_ascii))
                except SmsError as error:
                    if error.permanent:
                        return Settlement(job, "failed", error.code)
                    return Settlement(job, "retry", error.code, delay=self._retry_delay(job, error.retry_after))
                return Settlement(job, "sent")

        return list(await asyncio.gather(*(one(j) for j in jobs)))


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Deliveries, and the tables' retention on its schedule (core/retention.py), until `stop`."""
    db = Database.from_url(settings.database_url)
    dispatcher = Dispatcher(db=db, settings=settings)
    stop = stop or asyncio.Event()
    try:
        await asyncio.gather(dispatcher.run(stop), run_on_schedule(db, settings, stop))
    finally:
        await dispatcher.aclose()
        await db.dispose()
