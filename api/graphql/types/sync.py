"""Offline-sync types: a pull page of changes, and the per-mutation answers of a push."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.types.common import ErrorCode
from services.registry import personal
from sync.intents import Status
from sync.pull import Page, ResetReason

# The domain enums themselves join the schema (one definition each), under their GraphQL names.
strawberry.enum(ResetReason, name="SyncResetReason",
                description="Why the device must run a replacement sync (re-download, keep unpushed work).")
strawberry.enum(Status, name="SyncMutationStatus", description="What the server did with one pushed mutation.")


@strawberry.type(description="One record's current state (an upsert) or its deletion (a tombstone).")
class SyncChange:
    type: str = strawberry.field(description="dossier | document | draft | procedure | notification")
    id: str
    version: int
    deleted: bool
    data: JSON | None = strawberry.field(description="The full record, shaped for the schemaVersion asked; "
                                                     "null for a tombstone.",
                                         directives=[personal("dossier", "drafts", "documents")])
    # A catalogue record holds nobody's data: its `data` is not an audited read (api/graphql/personal.py).
    public: strawberry.Private[bool] = False


@strawberry.type(description="A page of changes. Apply it and store `checkpoint` in one local transaction.")
class SyncPage:
    changes: list[SyncChange]
    checkpoint: str = strawberry.field(description="Opaque; send it back to get what follows this page.")
    has_more: bool
    head: str = strawberry.field(description="The server's position when this page was cut (progress).")
    remaining: int = strawberry.field(description="Changes still to pull after this page.")
    reset: ResetReason | None = strawberry.field(
        description="Set on the first page of a replacement sync: after the last page, delete local records "
                    "that did not come back (keep unpushed mutations).")
    server_time: datetime = strawberry.field(description="For showing clock skew only; never used for ordering.")

    @strawberry.field(description="The service directory for the home screen offline (docs/SYNC_PROTOCOL.md, "
                                  "\"Service directory\"): every category and tile this citizen and app may "
                                  "see, each with the provinces where it shows; null when it is still "
                                  "`knownVersion` (the `version` of the one the app holds).")
    async def directory(self, info: strawberry.Info[Any, None], known_version: str | None = None) -> JSON | None:
        from api.graphql.queries_directory import offline_snapshot  # the directory needs the request context

        snapshot = await offline_snapshot(info)
        return None if snapshot["version"] == known_version else cast(JSON, snapshot)

    @classmethod
    def from_page(cls, page: Page, *, now: datetime) -> SyncPage:
        reset = page.reset if isinstance(page.reset, ResetReason) else None
        return cls(changes=[SyncChange(type=c.record_type, id=c.record_id, version=c.version, deleted=c.deleted,
                                       data=cast(JSON, c.data), public=c.record_type == "procedure")
                                for c in page.changes],
                   checkpoint=page.checkpoint, has_more=page.has_more, head=page.head, remaining=page.remaining,
                   reset=reset, server_time=now)


@strawberry.type
class SyncFieldConflict:
    field: str
    server_value: JSON | None = strawberry.field(description="The value the server had (which this push "
                                                             "overwrote, or which stays).",
                                                 directives=[personal("dossier", "drafts")])
    your_value: JSON | None


@strawberry.type
class SyncError:
    code: ErrorCode  # type: ignore[valid-type]
    field: str | None
    message: str
    message_vi: str
    message_en: str


@strawberry.type(description="The answer to one mutation. DUPLICATE repeats the original answer.")
class SyncMutationResult:
    client_mutation_id: str
    seq: int
    status: Status
    original_status: Status | None = strawberry.field(
        description="For DUPLICATE: the first answer's status.")
    record_type: str | None
    version: int | None
    record: JSON | None = strawberry.field(description="The server record after (or, when refused, as it is).",
                                           directives=[personal("dossier", "drafts")])
    conflicts: list[SyncFieldConflict]
    error: SyncError | None
    expected_seq: int | None = strawberry.field(description="For OUT_OF_ORDER: resend from this seq.")

    @classmethod
    def from_answer(cls, answer: dict[str, Any], locale: str) -> SyncMutationResult:
        error = answer.get("error")
        original = answer.get("originalStatus")
        return cls(
            client_mutation_id=answer["clientMutationId"], seq=answer["seq"],
            status=Status(answer["status"]),
            original_status=Status(original) if original else None,
            record_type=answer.get("recordType"), version=answer.get("version"), record=answer.get("record"),
            conflicts=[SyncFieldConflict(field=c["field"], server_value=c["serverValue"], your_value=c["yourValue"])
                       for c in answer.get("conflicts", [])],
            error=SyncError(code=error["code"], field=error["field"],
                            message=error["messageEn"] if locale == "en" else error["messageVi"],
                            message_vi=error["messageVi"], message_en=error["messageEn"]) if error else None,
            expected_seq=answer.get("expectedSeq"),
        )
