"""The limits every pushed mutation must meet, checked before anything touches the database.

PostgreSQL refuses what SQLite stores (over-length varchar, NUL, integers beyond int4), so a value past a
column's limit would answer INTERNAL_ERROR on PostgreSQL on every retry and wedge the device's queue. Each
limit here is the tightest column the value reaches, the same on both databases; a mutation over one can
never succeed, so it is answered REJECTED with a typed code and its seq is consumed.
Malformed shapes (an `args` that is not an object, `ids` that are not integers) are not checked here: the
intent handlers send those to quarantine for an operator.
"""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, ErrorCode
from core.row_ids import MAX_ROW_ID
from core.text import unstorable, unstorable_path

MAX_CLIENT_MUTATION_ID = 48  # a UUID is 36; the submission's idempotency key adds "sync:" in a varchar(64)
MAX_RECORD_ID = 64  # change_log.record_id, dossier.code
MAX_INTENT = 64
MAX_FIELD_NAME = 128  # draft_revision.field
MAX_PROCEDURE_CODE = 32  # procedure.code
MAX_INT4 = MAX_ROW_ID  # the id and version columns are int4 on PostgreSQL


def _text(value: str | None, field: str, maximum: int) -> None:
    if value is None:
        return
    if unstorable(value):
        raise DomainError(ErrorCode.INVALID_VALUE, field=field, label=field)
    if len(value) > maximum:
        raise DomainError(ErrorCode.INVALID_LENGTH, field=field, label=field)


def _fields(args: dict[str, Any]) -> None:
    fields = args.get("fields", args.get("data"))  # schema 2 apps say `data`
    if isinstance(fields, dict):
        for name in fields:
            _text(str(name), f"args.fields.{str(name)[:MAX_FIELD_NAME]}", MAX_FIELD_NAME)


def _ids(args: dict[str, Any]) -> None:
    ids = args.get("ids")
    if isinstance(ids, list):
        for i, value in enumerate(ids):
            if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_INT4:
                raise DomainError(ErrorCode.OUT_OF_RANGE, field=f"args.ids[{i}]", label=f"args.ids[{i}]")


def check_client_mutation_id(value: str) -> DomainError | None:
    if not value.strip():
        return DomainError(ErrorCode.INVALID_VALUE, field="clientMutationId", label="clientMutationId")
    try:
        _text(value, "clientMutationId", MAX_CLIENT_MUTATION_ID)
    except DomainError as error:
        return error
    return None


def check(*, intent: str, record_id: str | None, base_version: int | None, args: Any) -> None:
    """Raise the DomainError a mutation with these values must be answered with (REJECTED)."""
    _text(intent, "intent", MAX_INTENT)
    _text(record_id, "recordId", MAX_RECORD_ID)
    if base_version is not None and not 0 <= base_version <= MAX_INT4:
        raise DomainError(ErrorCode.OUT_OF_RANGE, field="baseVersion", label="baseVersion")
    where = unstorable_path(args, "args")
    if where is not None:
        raise DomainError(ErrorCode.INVALID_VALUE, field=where, label=where)
    if not isinstance(args, dict):
        return
    code = args.get("procedureCode")
    if isinstance(code, str):
        _text(code, "args.procedureCode", MAX_PROCEDURE_CODE)
    _fields(args)
    _ids(args)
