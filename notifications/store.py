"""The dispatcher's side of the outbox: lease due rows, settle them, and keep each inbox entry's state.

Leasing moves a row's `next_attempt_at` past the lease, in a committed transaction, so no other worker
sees it until the lease runs out: a worker killed mid-batch only delays its rows. On PostgreSQL the
lease is taken with `FOR UPDATE SKIP LOCKED`, so concurrent workers pick disjoint rows without waiting;
SQLite serializes writers (`BEGIN IMMEDIATE`), which gives the same guarantee in one file.

Quiet hours are applied here, when a row falls due, in the citizen's wall-clock time of
`SUPERAPP_TIMEZONE`: a leased row inside the citizen's quiet hours is put back, due when they end, so the
preferences in force at delivery time are the ones that count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select

from core.db import Database
from core.dossier_status import DossierStatus
from core.inbox import stamp_notification
from core.models import Citizen, Device, DossierEvent, Notification, NotificationPreference, OutboxMessage
from core.outbox import dedupe_key, preferences_of, quiet_until
from core.upsert import insert_into
from notifications.templates import Subject, redact


@dataclass(frozen=True)
class Job:
    """One leased delivery with what it needs to be sent (token or phone, locale, the subject)."""

    outbox_id: int
    notification_id: int
    channel: str
    dedupe_key: str
    created_at: datetime
    subject: Subject
    attempts: int = 1
    device_id: int | None = None
    token: str | None = None
    locale: str = "vi"
    phone: str | None = None


@dataclass(frozen=True)
class Settlement:
    job: Job
    state: str  # sent | dropped | failed | retry
    error: str | None = None
    delay: float = 0.0
    drop_token: bool = False


async def has_due(db: Database, now: datetime) -> bool:
    async with db.read() as session:
        found = (await session.execute(select(OutboxMessage.id).where(
            OutboxMessage.state == "pending", col(OutboxMessage.next_attempt_at) <= now).limit(1))).first()
    return found is not None


async def due_count(db: Database, now: datetime, *, cap: int) -> int:
    """Rows due now, counted up to `cap` only (an index range, never the whole table): the outbox gauge."""
    async with db.read() as session:
        due = select(OutboxMessage.id).where(OutboxMessage.state == "pending",
                                             col(OutboxMessage.next_attempt_at) <= now).limit(cap).subquery()
        return int((await session.execute(select(func.count()).select_from(due))).scalar_one())


async def claim(db: Database, *, owner: str, limit: int, lease_seconds: float, now: datetime,
                tz: ZoneInfo) -> list[Job]:
    """Lease up to `limit` due rows for `owner`; rows whose device is gone or changed hands are dropped,
    rows inside their citizen's quiet hours (local time in `tz`) wait until the hours end."""
    async def lease(session: AsyncSession) -> list[Job]:
        ids = list((await session.execute(
            select(OutboxMessage.id).where(OutboxMessage.state == "pending",
                                           col(OutboxMessage.next_attempt_at) <= now)
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id)).limit(limit)
            .with_for_update(skip_locked=True)
        )).scalars())
        if not ids:
            return []
        await session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(
            next_attempt_at=now + timedelta(seconds=lease_seconds), lease_owner=owner,
            attempts=OutboxMessage.attempts + 1))
        leased = (await session.execute(
            select(OutboxMessage, Notification, DossierEvent)
            .join(Notification, col(Notification.id) == OutboxMessage.notification_id)
            .join(DossierEvent, col(DossierEvent.id) == Notification.event_id)
            .where(col(OutboxMessage.id).in_(ids)).order_by(col(OutboxMessage.id))
        )).all()
        rows = await _outside_quiet_hours(session, [(o, n, e) for o, n, e in leased], now=now, tz=tz)
        device_ids = [o.device_id for o, _, _ in rows if o.device_id is not None]
        devices = {d.id: d for d in (await session.execute(
            select(Device).where(col(Device.id).in_(device_ids)))).scalars()} if device_ids else {}
        sms_citizens = [n.citizen_id for o, n, _ in rows if o.channel == "sms"]
        texted: dict[int, tuple[str | None, str, str]] = {
            cid: (phone, name, id_number) for cid, phone, name, id_number in (await session.execute(
                select(Citizen.id, Citizen.phone, Citizen.full_name, Citizen.id_number)
                .where(col(Citizen.id).in_(sms_citizens)))).all()} if sms_citizens else {}
        jobs, gone = [], []
        for outbox, notification, event in rows:
            assert outbox.id is not None
            assert notification.id is not None
            subject = Subject(notification.dossier_code, notification.procedure_name_vi,
                              notification.procedure_name_en, DossierStatus(notification.status),
                              note=event.note_vi if event.source == "agency" else None,
                              kept_status=event.from_status == event.status)
            job = Job(outbox_id=outbox.id, notification_id=notification.id, channel=outbox.channel,
                      dedupe_key=outbox.dedupe_key, created_at=outbox.created_at, subject=subject,
                      attempts=outbox.attempts,
                      device_id=outbox.device_id)
            if outbox.channel == "push":
                device = devices.get(outbox.device_id)
                # A token that moved to another citizen must not get the previous owner's news.
                if device is None or device.citizen_id != notification.citizen_id:
                    gone.append(Settlement(job, "dropped", "DEVICE_GONE"))
                    continue
                job = Job(**{**job.__dict__, "token": device.token, "locale": device.locale})
            else:
                phone, name, id_number = texted.get(notification.citizen_id, (None, "", ""))
                if not phone:
                    gone.append(Settlement(job, "failed", "NO_PHONE"))
                    continue
                if subject.note:
                    subject = Subject(**{**subject.__dict__, "note": redact(subject.note, (name, id_number, phone))})
                job = Job(**{**job.__dict__, "phone": phone, "subject": subject})
            jobs.append(job)
        if gone:
            await _apply(session, gone, owner=owner, now=now, give_up_seconds=float("inf"))
        return jobs

    return await db.transaction(lease)


Leased = tuple[OutboxMessage, Notification, DossierEvent]


async def _outside_quiet_hours(session: AsyncSession, rows: list[Leased], *, now: datetime,
                               tz: ZoneInfo) -> list[Leased]:
    """The rows to deliver now; the others are un-leased (the attempt not counted) until quiet hours end."""
    citizens = {n.citizen_id for _, n, _ in rows}
    preferences = {p.citizen_id: p for p in (await session.execute(select(NotificationPreference).where(
        col(NotificationPreference.citizen_id).in_(citizens)))).scalars()}
    ready = []
    for row in rows:
        outbox, notification, _ = row
        preference = preferences.get(notification.citizen_id)
        until = quiet_until(preference, now, tz) if preference is not None else None
        if until is None:
            ready.append(row)
            continue
        await session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == outbox.id).values(
            next_attempt_at=until, lease_owner=None, attempts=OutboxMessage.attempts - 1))
    return ready


async def settle(db: Database, settlements: list[Settlement], *, owner: str, now: datetime,
                 give_up_seconds: float) -> None:
    await db.transaction(lambda session: _apply(session, settlements, owner=owner, now=now,
                                                give_up_seconds=give_up_seconds))


def final_state(item: Settlement, now: datetime, give_up_seconds: float) -> str:
    """What the row becomes: a retry past `give_up_seconds` since the status change fails instead."""
    if item.state == "retry" and (now - item.job.created_at).total_seconds() >= give_up_seconds:
        return "failed"
    return item.state


async def _apply(session: AsyncSession, settlements: list[Settlement], *, owner: str, now: datetime,
                 give_up_seconds: float) -> None:
    pending = col(OutboxMessage.state) == "pending"
    for item in settlements:
        row = col(OutboxMessage.id) == item.job.outbox_id
        if item.drop_token and item.job.device_id is not None:
            await session.execute(delete(Device).where(col(Device.id) == item.job.device_id,
                                                       col(Device.token) == item.job.token))
        state, error = final_state(item, now, give_up_seconds), item.error
        if state != item.state:
            error = f"GAVE_UP:{error}"[:64]
        if state == "retry":
            await session.execute(update(OutboxMessage).where(row, pending, col(OutboxMessage.lease_owner) == owner)
                                  .values(next_attempt_at=now + timedelta(seconds=item.delay), last_error=error))
        else:
            await session.execute(update(OutboxMessage).where(row, pending).values(
                state=state, last_error=error, sent_at=now if state == "sent" else None))
    await _refresh_notifications(session, {s.job.notification_id for s in settlements}, now)


async def _refresh_notifications(session: AsyncSession, ids: Iterable[int], now: datetime) -> None:
    """delivered once any channel got through; when every channel gave up, fall back to SMS or fail."""
    for notification_id in sorted(ids):
        states = list((await session.execute(select(OutboxMessage.channel, OutboxMessage.state).where(
            OutboxMessage.notification_id == notification_id))).all())
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        before = notification.delivery
        if any(state == "sent" for _, state in states):
            notification.delivery = "delivered"
        elif any(state == "pending" for _, state in states):
            notification.delivery = "pending"
        elif not any(channel == "sms" for channel, _ in states) and await _sms_possible(session, notification):
            await _insert_sms(session, notification, now)
            notification.delivery = "pending"
        else:
            notification.delivery = "failed"
        session.add(notification)
        if notification.delivery != before:
            await stamp_notification(session, notification, now)
    await session.flush()


async def _sms_possible(session: AsyncSession, notification: Notification) -> bool:
    preference = await preferences_of(session, notification.citizen_id)
    citizen = await session.get(Citizen, notification.citizen_id)
    return preference.sms_fallback and citizen is not None and bool(citizen.phone)


async def _insert_sms(session: AsyncSession, notification: Notification, now: datetime) -> None:
    """At most one SMS per event, even if two workers decide on it at once (unique dedupe key)."""
    assert notification.id is not None
    await session.execute(insert_into(session, OutboxMessage).values(
        notification_id=notification.id, channel="sms", device_id=None, state="pending", attempts=0,
        dedupe_key=dedupe_key(notification.event_id, None), next_attempt_at=now, created_at=now,
    ).on_conflict_do_nothing(index_elements=[OutboxMessage.__table__.c.dedupe_key]))  # type: ignore[attr-defined]
