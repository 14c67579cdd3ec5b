"""The notification outbox: what a status change owes the citizen, written in the change's own transaction.

`record_status_change` runs inside `change_status`, so the dossier event, its inbox entry and one outbox
row per delivery (a push per registered device, an SMS when needed) commit together or not at all: a crash
can never leave a status without its notification, or a notification without its status. Delivery is the
`notifications` package's job (the dispatcher drains `outbox_message`); this module only decides what is
owed, from the citizen's preferences and devices.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import utc_now
from core.dossier_status import DossierStatus
from core.inbox import stamp_notification
from core.live import StatusChange, announce
from core.models import Citizen, Device, Dossier, DossierEvent, Notification, NotificationPreference, OutboxMessage
from core.models import Procedure as ProcedureRow

# Statuses the citizen must act on (or come for): these go by SMS too, even when a push is sent; so do
# note events (see `core.forward_outcomes`).
ACTION_NEEDED: frozenset[DossierStatus] = frozenset(
    {DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.PAYMENT_REQUESTED, DossierStatus.PROCESSED}
)


def dedupe_key(event_id: int, device_id: int | None) -> str:
    return f"{event_id}:{'sms' if device_id is None else device_id}"


async def preferences_of(session: AsyncSession, citizen_id: int) -> NotificationPreference:
    found = await session.get(NotificationPreference, citizen_id)
    return found or NotificationPreference(citizen_id=citizen_id)


def quiet_until(preference: NotificationPreference, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the citizen's quiet hours end, if `now` falls inside them (windows may span midnight).

    Quiet hours are the citizen's wall-clock time in `tz` (`SUPERAPP_TIMEZONE`); the dispatcher applies
    them when a row falls due (`notifications.store.claim`), so rows are written due at once.
    """
    start, end = preference.quiet_start_minute, preference.quiet_end_minute
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    ends = midnight + timedelta(minutes=end)
    return ends if ends > local else ends + timedelta(days=1)


async def record_status_change(session: AsyncSession, *, dossier: Dossier, event: DossierEvent,
                               notify: bool) -> Notification | None:
    """Announce the change to live subscribers and, when `notify`, owe the citizen a notification."""
    assert dossier.id is not None
    assert event.id is not None
    await announce(session, StatusChange(citizen_id=dossier.citizen_id, dossier_id=dossier.id,
                                         dossier_code=dossier.code, status=str(event.status), event_id=event.id,
                                         occurred_at=event.occurred_at.isoformat()))
    if not notify:
        return None
    now = utc_now()
    procedure = await session.get(ProcedureRow, dossier.procedure_id)
    assert procedure is not None
    notification = Notification(citizen_id=dossier.citizen_id, dossier_id=dossier.id, event_id=event.id,
                                dossier_code=dossier.code, procedure_name_vi=procedure.name_vi,
                                procedure_name_en=procedure.name_en, status=str(event.status),
                                created_at=now)
    session.add(notification)
    await session.flush()
    assert notification.id is not None
    await stamp_notification(session, notification, now)
    preference = await preferences_of(session, dossier.citizen_id)
    devices = list((await session.execute(
        select(Device.id).where(Device.citizen_id == dossier.citizen_id).order_by(col(Device.id))
    )).scalars()) if preference.push_enabled else []
    rows = [OutboxMessage(notification_id=notification.id, channel="push", device_id=device_id,
                          dedupe_key=dedupe_key(event.id, device_id), next_attempt_at=now)
            for device_id in devices]
    # A note event (the status kept: the agency refused the citizen's request) matters as much.
    urgent = DossierStatus(event.status) in ACTION_NEEDED or event.from_status == event.status
    if preference.sms_fallback and (not devices or urgent):
        citizen = await session.get(Citizen, dossier.citizen_id)
        if citizen is not None and citizen.phone:
            rows.append(OutboxMessage(notification_id=notification.id, channel="sms", device_id=None,
                                      dedupe_key=dedupe_key(event.id, None), next_attempt_at=now))
    if not rows:
        notification.delivery = "inbox_only"
    session.add_all(rows)
    await session.flush()
    return notification
