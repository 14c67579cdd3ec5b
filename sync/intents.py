"""The intents a device may push, each validated and applied by the server (never a raw row write).

Each handler runs inside the push's per-mutation transaction (and a savepoint, so a refused intent leaves
no trace but its answer). Arguments are whitelisted per intent: server-owned fields (status, codes, fees,
agency results, deadlines) are refused whatever the app sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import procedure_by_code
from core.citizens import Profile
from core.deadlines import HolidayCalendar
from core.dossiers import SERVER_OWNED, Submission, citizen_dossier, supplement_dossier, withdraw_dossier
from core.drafts import DELETED, OPEN, SUBMITTED, TRASH_DAYS, draft_for_update, keep_revision, save_draft
from core.errors import DomainError, ErrorCode, not_found
from core.form_limits import check_form_size
from core.inbox import mark_read
from core.models import Citizen, Draft
from core.payments import DEADLINE_DAYS, start_payment
from core.ratings import rate_dossier
from core.submission import receive
from core.uploads import check_ids
from sync.conflicts import FieldConflict, changed_by_others, effective_base, merge_fields
from sync.records import load_dossiers, load_drafts
from sync.schema_versions import Unreadable


class Status(StrEnum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    MERGED = "MERGED"
    CONFLICT = "CONFLICT"
    REJECTED = "REJECTED"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    RETRY = "RETRY"


@dataclass
class Applied:
    """What an intent did; `error` is set for REJECTED and CONFLICT."""

    status: Status
    record_type: str | None = None
    record: dict[str, Any] | None = None
    version: int | None = None
    conflicts: list[FieldConflict] = field(default_factory=list)
    error: DomainError | None = None
    submitted: bool = False  # forward jobs were queued (a submission, withdrawal or supplement): kick the forwarder


@dataclass(frozen=True)
class IntentContext:
    session: AsyncSession
    citizen: Citizen
    client_id: str
    client_mutation_id: str
    routes: Mapping[str, str]
    calendar: HolidayCalendar
    tz_name: str
    now: datetime
    profile: Profile | None = None  # pre-fill for draft.submit, resolved before the push (PREFILLING_INTENTS)
    daily_cap: int | None = None  # submissions per citizen and day (core.quota.count_submission)
    max_attachments: int = 20  # SUPERAPP_UPLOADS_MAX_PER_DOSSIER
    payment_deadline_days: int = DEADLINE_DAYS  # SUPERAPP_PAYMENT_DEADLINE_DAYS (dossier.pay)

    @property
    def citizen_id(self) -> int:
        assert self.citizen.id is not None
        return self.citizen.id


def _only(args: dict[str, Any], allowed: set[str]) -> None:
    for name in args:
        if name in allowed:
            continue
        if name in SERVER_OWNED or name in {"dossierCode", "history", "updatedAt"}:
            raise DomainError(ErrorCode.SERVER_OWNED_FIELD, field=name, label=name)
        raise Unreadable(f"unknown argument {name!r}")


def _fields(args: dict[str, Any]) -> dict[str, Any]:
    value = args.get("fields", {})
    if not isinstance(value, dict):
        raise Unreadable("'fields' is not an object")
    check_form_size(value, field="fields")
    return value


def _attachments(ctx: IntentContext, args: dict[str, Any]) -> tuple[str, ...]:
    """`"attachments": [upload ids]` on draft.submit and dossier.supplement (complete uploads, uploads/tus.py):
    the same checks as on GraphQL (core.uploads)."""
    value = args.get("attachments", [])
    if not isinstance(value, list):
        raise Unreadable("'attachments' is not a list")
    return check_ids(value, maximum=ctx.max_attachments)


def _draft_id(record_id: str | None) -> str:
    try:
        return str(uuid.UUID(str(record_id)))
    except ValueError as exc:
        raise Unreadable("recordId is not a UUID") from exc


async def _draft_answer(ctx: IntentContext, draft: Draft, status: Status, **extra: Any) -> Applied:
    record = (await load_drafts(ctx.session, ctx.citizen_id, [draft.id]))[draft.id]
    return Applied(status, record_type="draft", record=record, version=draft.version, **extra)


async def _own_draft(ctx: IntentContext, draft_id: str) -> Draft | None:
    """The caller's draft, or None: another citizen's draft is one that does not exist, so every intent answers
    it exactly as it answers a missing id (a delete of either is a no-op APPLIED, never a NOT_FOUND that
    would tell the two apart)."""
    draft = await draft_for_update(ctx.session, draft_id=draft_id)
    return draft if draft is not None and draft.citizen_id == ctx.citizen_id else None


async def _locked_or_deleted(ctx: IntentContext, draft: Draft, patch: dict[str, Any]) -> Applied | None:
    if draft.status == SUBMITTED:
        return await _draft_answer(ctx, draft, Status.REJECTED, error=DomainError(ErrorCode.DRAFT_LOCKED))
    if draft.status == DELETED:
        for name, value in sorted(patch.items()):  # delete wins; the edit stays recoverable in the trash
            await keep_revision(ctx.session, draft=draft, field=name, value=value, reason="after_delete",
                                client_id=ctx.client_id, now=ctx.now)
        conflicts = [FieldConflict(n, None, v) for n, v in sorted(patch.items())]
        return Applied(Status.CONFLICT, record_type="draft", record=None, version=draft.version,
                       conflicts=conflicts, error=DomainError(ErrorCode.DRAFT_DELETED))
    return None


async def _update(ctx: IntentContext, draft: Draft, patch: dict[str, Any], base: int | None) -> Applied:
    blocked = await _locked_or_deleted(ctx, draft, patch)
    if blocked is not None:
        return blocked
    merge = await merge_fields(ctx.session, draft, patch, base_version=base, client_id=ctx.client_id, now=ctx.now)
    if merge.changed:
        await save_draft(ctx.session, draft, now=ctx.now)
    status = Status.MERGED if merge.merged or merge.conflicts else Status.APPLIED
    return await _draft_answer(ctx, draft, status, conflicts=merge.conflicts)


async def draft_create(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    _only(args, {"procedureCode", "fields"})
    draft_id, patch = _draft_id(record_id), _fields(args)
    existing = await draft_for_update(ctx.session, draft_id=draft_id)
    if existing is not None and existing.citizen_id != ctx.citizen_id:
        raise not_found("hồ sơ nháp", "Draft")  # the id is taken: the app makes a new one
    if existing is not None:  # the app generates ids: a create seen twice is an update
        return await _update(ctx, existing, patch, base)
    code = str(args.get("procedureCode", ""))
    procedure = await procedure_by_code(ctx.session, code)
    if procedure is None or not procedure.active:
        raise DomainError(ErrorCode.PROCEDURE_NOT_AVAILABLE, field="procedureCode", code=code)
    clean = {k: v for k, v in patch.items() if v is not None}
    draft = Draft(id=draft_id, citizen_id=ctx.citizen_id, procedure_code=code, fields=clean,
                  field_versions=dict.fromkeys(clean, 1), field_authors=dict.fromkeys(clean, ctx.client_id),
                  status=OPEN, version=1, created_at=ctx.now)
    await save_draft(ctx.session, draft, now=ctx.now)
    return await _draft_answer(ctx, draft, Status.APPLIED)


async def draft_update(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    _only(args, {"fields"})
    draft = await _own_draft(ctx, _draft_id(record_id))
    if draft is None:
        raise not_found("hồ sơ nháp", "Draft")
    return await _update(ctx, draft, _fields(args), base)


async def draft_delete(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    """Delete wins over concurrent edits; the draft's content stays recoverable for the trash period."""
    _only(args, set())
    draft = await _own_draft(ctx, _draft_id(record_id))
    if draft is None or draft.status == DELETED:
        return Applied(Status.APPLIED, record_type="draft", version=draft.version if draft else None)
    if draft.status == SUBMITTED:
        return await _draft_answer(ctx, draft, Status.REJECTED, error=DomainError(ErrorCode.DRAFT_LOCKED))
    merged = bool(changed_by_others(draft, base=effective_base(draft, base), client_id=ctx.client_id))
    draft.status, draft.deleted_at, draft.version = DELETED, ctx.now, draft.version + 1
    await save_draft(ctx.session, draft, now=ctx.now)
    return Applied(Status.MERGED if merged else Status.APPLIED, record_type="draft", version=draft.version)


async def draft_restore(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    """Bring a deleted draft back from the trash (within the trash period), edits made after the delete too."""
    _only(args, set())
    draft = await _own_draft(ctx, _draft_id(record_id))
    if draft is None or draft.status != DELETED or draft.deleted_at is None \
            or ctx.now - draft.deleted_at > timedelta(days=TRASH_DAYS):
        raise not_found("hồ sơ nháp", "Draft")
    draft.status, draft.deleted_at, draft.version = OPEN, None, draft.version + 1
    await save_draft(ctx.session, draft, now=ctx.now)
    return await _draft_answer(ctx, draft, Status.APPLIED)


async def draft_submit(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    """File the draft as a dossier. A draft changed elsewhere since the device's base is not filed blind:
    the answer is CONFLICT with the current draft, for the citizen to review and submit again."""
    _only(args, {"attachments"})
    attachments = _attachments(ctx, args)
    draft = await _own_draft(ctx, _draft_id(record_id))
    if draft is None:
        raise not_found("hồ sơ nháp", "Draft")
    blocked = await _locked_or_deleted(ctx, draft, {})
    if blocked is not None:
        return blocked
    theirs = changed_by_others(draft, base=effective_base(draft, base), client_id=ctx.client_id)
    if theirs:  # another install changed the draft since this device looked: the citizen reviews first
        changed = [FieldConflict(n, draft.fields.get(n), None) for n in theirs]
        return await _draft_answer(ctx, draft, Status.CONFLICT, conflicts=changed,
                                   error=DomainError(ErrorCode.INVALID_VALUE, field="baseVersion",
                                                     label="baseVersion"))
    submission = Submission(procedure_code=draft.procedure_code, form_data=dict(draft.fields),
                            client_mutation_id=f"sync:{ctx.client_mutation_id}", attachments=attachments)
    dossier = await receive(ctx.session, citizen=ctx.citizen, submission=submission, routes=ctx.routes,
                            now=ctx.now, calendar=ctx.calendar, tz_name=ctx.tz_name, profile=ctx.profile,
                            daily_cap=ctx.daily_cap, max_attachments=ctx.max_attachments)
    draft.status, draft.dossier_code, draft.version = SUBMITTED, dossier.code, draft.version + 1
    await save_draft(ctx.session, draft, now=ctx.now)
    answer = await _draft_answer(ctx, draft, Status.APPLIED)
    answer.submitted = True
    return answer


async def _dossier_answer(ctx: IntentContext, code: str, version: int) -> Applied:
    record = (await load_dossiers(ctx.session, ctx.citizen_id, [code]))[code]
    return Applied(Status.APPLIED, record_type="dossier", record=record, version=version)


async def dossier_withdraw(ctx: IntentContext, record_id: str | None, base: int | None,
                           args: dict[str, Any]) -> Applied:
    _only(args, set())
    dossier = await withdraw_dossier(ctx.session, citizen_id=ctx.citizen_id, code=str(record_id), now=ctx.now)
    answer = await _dossier_answer(ctx, dossier.code, dossier.version)
    answer.submitted = True  # the agency is owed the withdrawal
    return answer


async def dossier_supplement(ctx: IntentContext, record_id: str | None, base: int | None,
                             args: dict[str, Any]) -> Applied:
    _only(args, {"fields", "attachments"})
    # Completed like a GraphQL supplement (core.forms.complete_form): read-only identity fields cannot change.
    dossier = await supplement_dossier(ctx.session, citizen_id=ctx.citizen_id, code=str(record_id),
                                       answers=_fields(args), now=ctx.now, profile=ctx.profile,
                                       attachments=_attachments(ctx, args), max_attachments=ctx.max_attachments)
    answer = await _dossier_answer(ctx, dossier.code, dossier.version)
    answer.submitted = True  # the agency is owed the answers
    return answer


async def dossier_rate(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    """`{score, comment}` (score 1-5): the rules of `rateDossier` (once, by the owner, after RETURNED)."""
    _only(args, {"score", "comment"})
    comment = args.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise Unreadable("'comment' is not a string")
    dossier, _ = await rate_dossier(ctx.session, citizen_id=ctx.citizen_id, code=str(record_id),
                                    stars=args.get("score"), comment=comment, now=ctx.now)
    return await _dossier_answer(ctx, dossier.code, dossier.version)


async def dossier_pay(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
    """Pay the fees asked for, queued offline: the payment is started (idempotent, like payDossierFee) when the
    queue is sent, and its gateway order opened right after the push; a queue sent again is answered with the
    stored result (DUPLICATE), so it never opens a second order. The citizen pays on `dossier.payment.gatewayUrl`
    once online."""
    _only(args, set())
    await start_payment(ctx.session, citizen_id=ctx.citizen_id, code=str(record_id), now=ctx.now,
                        deadline_days=ctx.payment_deadline_days)
    dossier = await citizen_dossier(ctx.session, citizen_id=ctx.citizen_id, code=str(record_id))
    return await _dossier_answer(ctx, dossier.code, dossier.version)


async def notifications_mark_read(ctx: IntentContext, record_id: str | None, base: int | None,
                                  args: dict[str, Any]) -> Applied:
    """`{"ids": [...]}` read offline; the read marks come back to every device through the pull."""
    _only(args, {"ids"})
    ids = args.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Unreadable("'ids' is not a list of integers")
    marked = await mark_read(ctx.session, citizen_id=ctx.citizen_id, ids=ids, now=ctx.now)
    return Applied(Status.APPLIED, record_type="notification", record={"ids": [str(i) for i in marked]})


# Intents that file a form: a push holding one resolves the citizen's pre-fill profile (which may ask an
# agency) once, before its transactions. A supplement keeps the identity stored at filing and needs none.
PREFILLING_INTENTS = frozenset({"draft.submit"})

Handler = Callable[[IntentContext, str | None, int | None, dict[str, Any]], Awaitable[Applied]]


def _unsupported(name: str, reason_vi: str, reason_en: str) -> Handler:
    async def handler(ctx: IntentContext, record_id: str | None, base: int | None, args: dict[str, Any]) -> Applied:
        raise DomainError(ErrorCode.UNSUPPORTED_INTENT, field="intent", intent=name, reason=reason_vi,
                          reason_en=reason_en)

    return handler


INTENTS: dict[str, Handler] = {
    "draft.create": draft_create,
    "draft.update": draft_update,
    "draft.delete": draft_delete,
    "draft.restore": draft_restore,
    "draft.submit": draft_submit,
    "dossier.withdraw": dossier_withdraw,
    "dossier.supplement": dossier_supplement,
    "dossier.pay": dossier_pay,
    "notifications.markRead": notifications_mark_read,
    "dossier.rate": dossier_rate,
}
