"""The citizen's devices, notification preferences, inbox entries and live status changes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.graphql.types.common import DossierStatus, LocalizedText
from api.graphql.types.dossier import Dossier
from core import models
from core.dossier_status import DossierStatus as CoreStatus


@strawberry.enum(description="What the dispatcher achieved for an inbox entry.")
class NotificationDelivery(Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    INBOX_ONLY = "inbox_only"


@strawberry.type(description="A phone or browser that receives pushes. The token itself is never echoed back.")
class Device:
    platform: str
    locale: str
    registered_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_row(cls, row: models.Device) -> Device:
        return cls(platform=row.platform, locale=row.locale, registered_at=row.created_at,
                   last_seen_at=row.last_seen_at)


def _clock(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


@strawberry.type(description="Push on/off, SMS fallback on/off and quiet hours (HH:MM, the service's local time, "
                             "Vietnam time by default).")
class NotificationPreferences:
    push_enabled: bool
    sms_fallback: bool
    quiet_hours_start: str | None
    quiet_hours_end: str | None

    @classmethod
    def from_row(cls, row: models.NotificationPreference) -> NotificationPreferences:
        return cls(push_enabled=row.push_enabled, sms_fallback=row.sms_fallback,
                   quiet_hours_start=_clock(row.quiet_start_minute), quiet_hours_end=_clock(row.quiet_end_minute))


@strawberry.type(description="One entry of the in-app inbox: a status change of one of the citizen's dossiers.")
class InboxNotification:
    id: strawberry.ID
    dossier_code: str
    procedure_name: LocalizedText
    status: DossierStatus  # type: ignore[valid-type]
    status_label: LocalizedText
    delivery: NotificationDelivery
    created_at: datetime
    read_at: datetime | None

    @strawberry.field(description="Whether the citizen has read it.")
    def read(self) -> bool:
        return self.read_at is not None

    @classmethod
    def from_row(cls, row: models.Notification) -> InboxNotification:
        status = CoreStatus(row.status)
        return cls(id=strawberry.ID(str(row.id)), dossier_code=row.dossier_code,
                   procedure_name=LocalizedText(vi=row.procedure_name_vi, en=row.procedure_name_en),
                   status=status, status_label=LocalizedText(vi=status.label_vi, en=status.label_en),
                   delivery=NotificationDelivery(row.delivery), created_at=row.created_at, read_at=row.read_at)


@strawberry.type(description="A status change of one of the signed-in citizen's dossiers, as it happens.")
class DossierStatusChange:
    dossier_code: str
    status: DossierStatus  # type: ignore[valid-type]
    status_code: int
    status_label: LocalizedText
    occurred_at: datetime
    dossier: Dossier | None
