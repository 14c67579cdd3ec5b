"""The status event, the inbox entry and the outbox rows commit together or not at all."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.devices import register_device
from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.models import Dossier, DossierEvent, Notification, OutboxMessage
from tests.core.factories import create_citizen
from tests.notifications.support import new_dossier


class _Crash(Exception):
    pass


async def test_a_rolled_back_status_change_leaves_no_notification(db: Database, calendar: HolidayCalendar) -> None:
    owner = await create_citizen(db, phone=None)
    assert owner.id is not None
    dossier = await new_dossier(db, calendar, owner)
    async with db.write() as session:
        for n in range(2):
            await register_device(session, citizen_id=owner.id, token=f"atomic-{owner.id}-{n}", platform="ios",
                                  locale="vi", now=utc_now())

    async def accept_then_crash() -> None:
        async with db.write() as session:
            row = await session.get(Dossier, dossier.id)
            assert row is not None
            await change_status(session, dossier=row, target=DossierStatus.ACCEPTED, source="agency",
                                occurred_at=utc_now())
            raise _Crash

    with pytest.raises(_Crash):
        await accept_then_crash()
    async with db.read() as session:
        assert (await session.execute(select(Notification).where(Notification.dossier_id == dossier.id))).all() == []
    async with db.write() as session:
        row = await session.get(Dossier, dossier.id)
        assert row is not None
        event = await change_status(session, dossier=row, target=DossierStatus.ACCEPTED, source="agency",
                                    occurred_at=utc_now(), external_id="x-1")
        # A repeated agency event id changes nothing and owes nothing more.
        again = await change_status(session, dossier=row, target=DossierStatus.ACCEPTED, source="agency",
                                    occurred_at=utc_now(), external_id="x-1")
        assert again.id == event.id
    async with db.read() as session:
        [notification] = (await session.execute(
            select(Notification).where(Notification.dossier_id == dossier.id))).scalars()
        rows = list((await session.execute(
            select(OutboxMessage).where(OutboxMessage.notification_id == notification.id))).scalars())
        assert notification.event_id == event.id
        assert sorted(r.dedupe_key for r in rows) == sorted(f"{event.id}:{r.device_id}" for r in rows)
        assert len(rows) == 2
        statuses = [e.status for e in (await session.execute(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(col(DossierEvent.id))
        )).scalars()]
        assert statuses == ["submitted", "accepted"]


async def test_the_citizens_own_withdrawal_is_not_pushed(db: Database, calendar: HolidayCalendar) -> None:
    owner = await create_citizen(db)
    dossier = await new_dossier(db, calendar, owner)
    async with db.write() as session:
        await change_status(session, dossier=dossier, target=DossierStatus.WITHDRAWAL_REQUESTED, source="citizen",
                            occurred_at=utc_now())
    async with db.read() as session:
        assert (await session.execute(select(Notification).where(Notification.dossier_id == dossier.id))).all() == []
