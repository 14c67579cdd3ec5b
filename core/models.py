"""Tables. Personal data lives in `citizen` and in dossier form data; see docs/ARCHITECTURE.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.clock import utc_now


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, description="V1V2V3.Z1Z2.Y1Y2.MX1X2")
    name_vi: str = Field(max_length=255)
    name_en: str = Field(max_length=255)
    level: str | None = Field(default=None, max_length=16, description="central | province | district | commune")
    owner_service: str | None = Field(default=None, max_length=64,
                                      description="the service that declared it; None: the national catalogue")


class Procedure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_vi: str = Field(max_length=500)
    name_en: str = Field(max_length=500)
    search_text: str = Field(max_length=2000, description="folded names and code, for search")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    online_level: str = Field(max_length=16, description="full | partial (Decree 42/2022)")
    processing_days: int = Field(ge=0)
    fee_vnd: int = Field(default=0, ge=0)
    form_schema: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True
    updated_at: datetime = Field(default_factory=utc_now)
    # The fees and charges the procedure costs (core/payments.py, `fee_items`): `[{"kind": "fee"|"charge",
    # "amount_vnd", "description_vi", "description_en"}]`; `fee_vnd` is their total. Empty: one item of fee_vnd.
    fees: list[dict[str, Any]] = Field(default_factory=list,
                                       sa_column=Column(JSON, nullable=False, server_default=text("'[]'")))


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=12, unique=True)
    full_name: str = Field(max_length=255)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=8)
    hometown: str | None = Field(default=None, max_length=500)
    permanent_address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utc_now)


class Dossier(SQLModel, table=True):
    __table_args__ = (
        Index("ix_dossier_citizen_newest", "citizen_id", "submitted_at", "id"),
        UniqueConstraint("citizen_id", "client_mutation_id", name="uq_dossier_client_mutation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    status: str = Field(max_length=32, description="current status, the state machine's replay of events")
    form_data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime
    due_date: date
    updated_at: datetime
    version: int = 1
    client_mutation_id: str | None = Field(default=None, max_length=64)
    request_hash: str | None = Field(default=None, max_length=64)
    parent_id: int | None = Field(default=None, foreign_key="dossier.id", index=True,
                                  description="the interconnected dossier this one is a part of")


class DossierEvent(SQLModel, table=True):
    """Append-only status history: rows are inserted, never updated or deleted."""

    __tablename__ = "dossier_event"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_dossier_event_seq"),
        UniqueConstraint("dossier_id", "source", "external_id", name="uq_dossier_event_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    seq: int
    from_status: str | None = Field(default=None, max_length=32)
    status: str = Field(max_length=32)
    source: str = Field(max_length=32, description="citizen | agency | system")
    external_id: str | None = Field(default=None, max_length=128, description="the agency's event id")
    note_vi: str | None = Field(default=None, max_length=2000)
    note_en: str | None = Field(default=None, max_length=2000)
    occurred_at: datetime
    recorded_at: datetime = Field(default_factory=utc_now)


class Document(SQLModel, table=True):
    """An issued result or card in the citizen's wallet."""

    __table_args__ = (Index("ix_document_citizen_issued", "citizen_id", "issued_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    kind: str = Field(max_length=64)
    title_vi: str = Field(max_length=500)
    title_en: str = Field(max_length=500)
    number: str = Field(max_length=64)
    issued_at: datetime
    valid_until: date | None = None
    # The issuing agency's signature over the canonical JSON of `signed_payload` (core/wallet.py), checked on
    # receipt: `verification` is VALID | INVALID | UNKNOWN_KEY, or UNSIGNED for what came before signing.
    valid_from: date | None = None
    signed_payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    signature: str | None = Field(default=None, max_length=128)
    signing_kid: str | None = Field(default=None, max_length=128)
    verification: str = Field(default="UNSIGNED", max_length=16, sa_column_kwargs={"server_default": "UNSIGNED"})


class Device(SQLModel, table=True):
    """A push token of one of the citizen's phones; a token belongs to whoever registered it last."""

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    token: str = Field(max_length=4096, unique=True)
    platform: str = Field(max_length=16)
    locale: str = Field(default="vi", max_length=16)
    created_at: datetime = Field(default_factory=utc_now)
    last_seen_at: datetime = Field(default_factory=utc_now)


class DossierSequence(SQLModel, table=True):
    """The daily counter behind dossier codes, one row per (agency, day)."""

    __tablename__ = "dossier_sequence"

    agency_code: str = Field(max_length=32, primary_key=True)
    day: str = Field(max_length=6, primary_key=True, description="yymmdd")
    value: int = 0


class ForwardJob(SQLModel, table=True):
    """Something owed to an agency: a submitted dossier (`action` "submit") or, later, what the citizen did
    to it ("withdraw", "supplement"). Written in the same transaction as the change, so never lost.

    The forwarder leases due rows (pushing `next_attempt_at` ahead), calls the agency with
    `idempotency_key`, and marks the row delivered; a crash mid-call only means the lease runs out. A
    dossier's jobs are delivered in `id` order: a job waits while an earlier one of its dossier is owed, so
    an agency never hears of a withdrawal before the dossier itself.

    A job ends without delivery (`ended_at`) when the agency refuses it (a 4xx: retrying cannot help) or an
    operator gives up on it (`superapp forward give-up`); `last_error` keeps why, and the citizen is told.
    """

    __tablename__ = "forward_job"
    __table_args__ = (Index("ix_forward_job_due", "delivered_at", "next_attempt_at"),
                      Index("ix_forward_job_dossier", "dossier_id", "id"),
                      Index("ix_forward_job_ended", "ended_at"))

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    service_code: str = Field(max_length=64)
    action: str = Field(default="submit", max_length=16, sa_column_kwargs={"server_default": "submit"})
    # What the action carries for the agency (the supplement's answers); None for submit and withdraw.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    idempotency_key: str = Field(max_length=128, unique=True)
    attempts: int = 0
    next_attempt_at: datetime
    delivered_at: datetime | None = None
    agency_reference: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = None


class AgencyEventRecord(SQLModel, table=True):
    """Every status event an agency sent us, with what we did with it (dedupe key: service + event id)."""

    __tablename__ = "agency_event"
    __table_args__ = (UniqueConstraint("service_code", "event_id", name="uq_agency_event_id"),
                      Index("ix_agency_event_received", "received_at"))

    id: int | None = Field(default=None, primary_key=True)
    service_code: str = Field(max_length=64)
    event_id: str = Field(max_length=128)
    dossier_code: str = Field(max_length=64)
    status: str = Field(max_length=32)
    outcome: str = Field(max_length=16, description="applied | rejected")
    detail: str | None = Field(default=None, max_length=255)
    fingerprint: str | None = Field(default=None, max_length=64,
                                    description="SHA-256 of the event's content (all but its id)")
    occurred_at: datetime
    received_at: datetime = Field(default_factory=utc_now)


class SyncScope(SQLModel, table=True):
    """One row per sync scope (`c:<citizen id>` or `public`): its sequence, taken under this row's lock.

    Writers in one scope queue on the row lock (PostgreSQL) or on `BEGIN IMMEDIATE` (SQLite), so sequence
    numbers are handed out in commit order and a reader that has seen seq N has seen everything below it.
    """

    __tablename__ = "sync_scope"

    scope: str = Field(max_length=32, primary_key=True)
    last_seq: int = 0
    min_retained_seq: int = Field(default=0, description="tombstones at or below this were purged")


class ChangeLogEntry(SQLModel, table=True):
    """The latest-state change log: one row per (scope, record), re-stamped with a new seq on every change."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_scope_seq", "scope", "seq", unique=True),
                      Index("ix_change_log_tombstone", "deleted", "changed_at"))

    scope: str = Field(max_length=32, primary_key=True)
    record_type: str = Field(max_length=32, primary_key=True)
    record_id: str = Field(max_length=64, primary_key=True)
    seq: int
    version: int
    deleted: bool = False
    changed_at: datetime = Field(default_factory=utc_now)


class Draft(SQLModel, table=True):
    """A dossier being filled in, possibly offline on several devices; the id is the app's UUID.

    `field_versions` remembers at which version each field last changed, so a push based on an older
    version can be merged field by field; `field_authors` remembers which install changed it, so an
    install's own earlier mutations never count as a conflict against it. `status` is open | submitted |
    deleted (deleted drafts are kept, recoverable, for the trash period).
    """

    __table_args__ = (Index("ix_draft_trash", "status", "deleted_at"),)

    id: str = Field(max_length=36, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    procedure_code: str = Field(max_length=32)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    field_versions: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    field_authors: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                          description="the install (sync client id) that last changed each field")
    status: str = Field(default="open", max_length=16)
    version: int = 1
    dossier_code: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    deleted_at: datetime | None = None


class DraftRevision(SQLModel, table=True):
    """Values that lost: overwritten by another device's later push, or edits that arrived after a delete."""

    __tablename__ = "draft_revision"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: str = Field(foreign_key="draft.id", index=True, max_length=36)
    field: str = Field(max_length=128)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str = Field(max_length=16, description="overwritten | after_delete")
    at_version: int
    client_id: str | None = Field(default=None, max_length=36, description="the device whose value this was")
    recorded_at: datetime = Field(default_factory=utc_now)


class SyncClient(SQLModel, table=True):
    """An app install: whose it is and the last mutation seq applied (gapless, per client)."""

    __tablename__ = "sync_client"

    id: str = Field(max_length=36, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utc_now)
    answered_below: int = Field(default=0, sa_column_kwargs={"server_default": "0"},
                                description="the lowest seq of the install's latest push: it has every answer below")


class SyncMutationResult(SQLModel, table=True):
    """The answer given to each applied mutation, replayed verbatim as DUPLICATE on a retry."""

    __tablename__ = "sync_mutation_result"
    __table_args__ = (UniqueConstraint("client_id", "client_mutation_id", name="uq_sync_result_mutation"),
                      Index("ix_sync_mutation_result_created", "created_at"))

    client_id: str = Field(foreign_key="sync_client.id", primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    client_mutation_id: str = Field(max_length=64)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)


class SyncQuarantine(SQLModel, table=True):
    """A pushed mutation the server could not read: kept for an operator, never dropped."""

    __tablename__ = "sync_quarantine"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=36, index=True)
    seq: int
    client_mutation_id: str = Field(max_length=64)
    schema_version: int
    mutation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utc_now)


class NotificationPreference(SQLModel, table=True):
    """A citizen's choices; no row means the defaults (push on, SMS fallback on, no quiet hours)."""

    __tablename__ = "notification_preference"

    citizen_id: int = Field(foreign_key="citizen.id", primary_key=True)
    push_enabled: bool = True
    sms_fallback: bool = True
    quiet_start_minute: int | None = Field(default=None, ge=0, lt=1440, description="local time, minutes")
    quiet_end_minute: int | None = Field(default=None, ge=0, lt=1440)
    updated_at: datetime = Field(default_factory=utc_now)


class Notification(SQLModel, table=True):
    """One inbox entry per citizen and status event. Holds no personal data beyond what the app shows.

    `delivery` is what the dispatcher achieved: pending, delivered (some channel reached the citizen),
    failed (every channel gave up) or inbox_only (the citizen chose no push and no SMS).
    """

    __table_args__ = (Index("ix_notification_citizen_newest", "citizen_id", "id"),
                      Index("ix_notification_read", "read_at"))

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    dossier_id: int = Field(foreign_key="dossier.id")
    event_id: int = Field(foreign_key="dossier_event.id", unique=True)
    dossier_code: str = Field(max_length=64)
    procedure_name_vi: str = Field(max_length=500)
    procedure_name_en: str = Field(max_length=500)
    status: str = Field(max_length=32)
    delivery: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(default_factory=utc_now)
    read_at: datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """One delivery to do: a push to one device or an SMS. Written in the status change's transaction.

    `dedupe_key` is `<event id>:<device id>` (or `<event id>:sms`): unique, so the same event never
    becomes two rows for one device, and sent in the push so the app drops a re-delivered copy.
    A worker leases due rows by moving `next_attempt_at` ahead (`lease_owner` says who); a killed
    worker's rows fall due again when the lease runs out.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "next_attempt_at"),
                      Index("ix_outbox_message_finished", "state", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    channel: str = Field(max_length=8, description="push | sms")
    device_id: int | None = Field(default=None, description="no foreign key: an unregistered device goes")
    dedupe_key: str = Field(max_length=64, unique=True)
    state: str = Field(default="pending", max_length=16, description="pending | sent | failed | dropped")
    attempts: int = 0
    next_attempt_at: datetime
    lease_owner: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    sent_at: datetime | None = None


class QuotaBucket(SQLModel, table=True):
    """Quota state shared by every worker (core/quota.py), one row per key, changed by one atomic upsert.

    A rate key (`citizen:<id>`, `ip:<address>`, `service:<code>`) holds GCRA's theoretical arrival time
    in epoch seconds; a daily key (`submissions:<citizen id>:<yyyy-mm-dd>`) holds the day's count. A row
    past `expires_at` says nothing any more (a bucket full again, a day gone) and may be deleted."""

    __tablename__ = "quota_bucket"

    key: str = Field(primary_key=True, max_length=200)
    value: float
    expires_at: float = Field(index=True, description="epoch seconds")


class AuditEntry(SQLModel, table=True):
    """One read or change of a citizen's personal data: append-only, each row chained to the one before by
    `prev_hash` and its own `hash` (core/audit.py). Rows are never updated or deleted by the application."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_subject_seq", "subject_citizen_id", "seq"),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False),
                     description="position in the chain, from 1, gapless")
    at: datetime
    actor_kind: str = Field(max_length=16, description="citizen | officer | agency | system")
    actor_id: str = Field(max_length=64, description="citizen id, officer id, agency code or component")
    subject_citizen_id: int = Field(description="whose data (citizen.id)")
    fields: str = Field(max_length=4000, description="schema coordinates, comma separated, e.g. Me.phone")
    operation: str = Field(max_length=128)
    purpose: str = Field(max_length=32)
    request_id: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's one head row (id 1): its last seq and hash. Appends lock it (`core.locks.Lock.AUDIT`), so
    the chain is linear however many processes write, and a removed last row is seen against it."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_hash: str = Field(max_length=64)


class Announcement(SQLModel, table=True):
    """A notice from an agency to everyone (or to the people of some provinces) for a window of time, shown on
    the home screen (core/announcements.py). Never personal: no citizen column, and text holding an ID number
    or a phone number is refused where it enters. `provinces` is `,001,079,` (empty = nationwide), so one
    `LIKE '%,079,%'` selects a province on SQLite and PostgreSQL alike."""

    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_window", "ends_at", "starts_at"),
                      UniqueConstraint("service_code", "external_id", name="uq_announcement_service_external"))

    id: int | None = Field(default=None, primary_key=True)
    agency_code: str = Field(max_length=32, description="issuing agency, a catalogue agency code")
    title_vi: str = Field(max_length=120)
    title_en: str = Field(max_length=120)
    body_vi: str = Field(max_length=1000)
    body_en: str = Field(max_length=1000)
    starts_at: datetime
    ends_at: datetime
    provinces: str = Field(default="", max_length=512, description="`,PPP,...,` or empty for nationwide")
    priority: int = Field(default=0, description="0-100, higher first")
    source: str = Field(default="operator", max_length=16, description="operator | agency")
    service_code: str | None = Field(default=None, max_length=64, description="the agency service that sent it")
    external_id: str | None = Field(default=None, max_length=128, description="the agency's id, for redelivery")
    created_at: datetime = Field(default_factory=utc_now)
    withdrawn_at: datetime | None = None


class HomeSectionSetting(SQLModel, table=True):
    """Operators' home layout (`superapp home`): one row per section kind, its place and whether it is shown.
    Read on every `homeScreen`, so a change shows on the next request without a deploy."""

    __tablename__ = "home_section_setting"

    kind: str = Field(max_length=32, primary_key=True, description="ACTION_NEEDED | WALLET | ...")
    position: int
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utc_now)


class HomeDefaultService(SQLModel, table=True):
    """The procedures shown as "frequent services" to callers without a filing history (new or anonymous)."""

    __tablename__ = "home_default_service"

    procedure_code: str = Field(max_length=32, primary_key=True)
    position: int


class FeatureFlag(SQLModel, table=True):
    """A staged roll-out, set by operators (`superapp flags`): the tiles and screens that name this flag show
    only in `provinces` ("*": every province), and only to apps from `min_version` on `platform` when set."""

    __tablename__ = "feature_flag"

    name: str = Field(primary_key=True, max_length=64)
    provinces: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_version: str | None = Field(default=None, max_length=20, description="MAJOR.MINOR.PATCH, inclusive")
    platform: str | None = Field(default=None, max_length=16, description="android | ios | web; none: any")
    updated_at: datetime = Field(default_factory=utc_now)


class Upload(SQLModel, table=True):
    """One resumable attachment (uploads/, the tus protocol): metadata only, the bytes live in the storage
    backend under `id`. `id` is random and opaque (it is the upload URL), never derived from the citizen.
    `offset` is how many bytes are stored; the upload is `complete` when it reaches `length` and its content
    passed the type check. A dossier takes it once (`dossier_id`), as a filing's (`attached_as` "submit")
    or a supplement's ("supplement", with the supplement's forward job, if any)."""

    __tablename__ = "upload"

    id: str = Field(primary_key=True, max_length=43)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    length: int = Field(sa_column=Column(BigInteger, nullable=False))
    offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    filename: str = Field(default="", max_length=255, description="the app's name for it, shown back only")
    content_type: str | None = Field(default=None, max_length=64, description="detected from the content")
    sha256: str | None = Field(default=None, max_length=64, description="of the whole file, once complete")
    state: str = Field(default="uploading", max_length=16, description="uploading | complete")
    created_at: datetime
    expires_at: datetime = Field(index=True, description="unfinished (or unattached) past this: pruned")
    completed_at: datetime | None = None
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    attached_as: str | None = Field(default=None, max_length=16, description="submit | supplement")
    forward_job_id: int | None = Field(default=None, description="the supplement's forward job")
    locked_until: datetime | None = Field(default=None, description="a PATCH is writing it until then (lease)")


class AppMinimumVersion(SQLModel, table=True):
    """The oldest app version served on a platform, set by operators (`superapp apps set-minimum`) without a
    deploy; it overrides `SUPERAPP_APP_MIN_VERSION_<PLATFORM>` (core/app_versions.py)."""

    __tablename__ = "app_minimum_version"

    platform: str = Field(primary_key=True, max_length=16, description="android | ios | web")
    minimum_version: str = Field(max_length=20, description="MAJOR.MINOR.PATCH")
    store_url: str = Field(max_length=500)
    updated_at: datetime = Field(default_factory=utc_now)


class AppOperationUsage(SQLModel, table=True):
    """Which operation (trusted document hash) each app name and version sends, how often, first and last seen:
    aggregated in memory and upserted in batches (core/app_usage.py), read by `superapp contract usage` and the
    breaking-change guard. Rows of versions not seen for `SUPERAPP_RETENTION_APP_USAGE_DAYS` are deleted."""

    __tablename__ = "app_operation_usage"
    __table_args__ = (UniqueConstraint("app_name", "app_version", "operation_hash",
                                       name="uq_app_operation_usage_key"),)

    id: int | None = Field(default=None, primary_key=True)
    app_name: str = Field(max_length=63)
    platform: str = Field(max_length=16)
    app_version: str = Field(max_length=20)
    operation_hash: str = Field(max_length=64)
    operation_name: str | None = Field(default=None, max_length=128)
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    first_seen: datetime
    last_seen: datetime = Field(index=True)


class DossierRating(SQLModel, table=True):
    """The citizen's one rating of a dossier whose result was returned (core/ratings.py). The comment may hold
    personal data: only its owner reads it back; public figures use stars, procedure and agency only."""

    __tablename__ = "dossier_rating"
    __table_args__ = (Index("ix_dossier_rating_procedure", "procedure_id"),
                      Index("ix_dossier_rating_agency", "agency_id"))

    dossier_id: int = Field(foreign_key="dossier.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    procedure_id: int = Field(foreign_key="procedure.id")
    agency_id: int = Field(foreign_key="agency.id")
    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)
    client_mutation_id: str | None = Field(default=None, max_length=64,
                                           description="the request that rated: its retry is answered, not refused")
    rated_at: datetime


class Payment(SQLModel, table=True):
    """What the citizen owes for one payment request of a dossier (its PAYMENT_REQUESTED event `request_seq`),
    and how paying it went (core/payments.py). Changed only under the dossier's row lock.

    `order_seq` counts the orders opened at the gateway for it (0: none yet); the gateway knows the current one
    as `order_reference` and charges an order at most once. A new order is opened only after the gateway
    confirmed the previous one cancelled (EXPIRED), so the payment is charged at most once in all. On
    confirmation `transaction_id`, `paid_at` and `amount_vnd` are the citizen's receipt.
    """

    __table_args__ = (UniqueConstraint("dossier_id", "request_seq", name="uq_payment_request"),
                      Index("ix_payment_status_opened", "status", "order_opened_at"))

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=96, unique=True, description="ours: TT-<dossier code>-<request seq>")
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    request_seq: int = Field(description="the dossier event (PAYMENT_REQUESTED) this payment answers")
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline: datetime
    status: str = Field(max_length=16, description="pending | declined | confirmed | expired")
    attempts: int = Field(default=0, description="times the citizen started paying it")
    order_seq: int = 0
    order_reference: str | None = Field(default=None, max_length=100)
    gateway_url: str | None = Field(default=None, max_length=500)
    order_opened_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=64, description="the gateway's reason code")
    transaction_id: str | None = Field(default=None, max_length=64, description="the gateway's, on confirmation")
    paid_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
