"""`syncChanges` (and the deprecated `syncPull`): the offline app's read path, a thin resolver over `sync.pull`.

`syncPull` was released non-null, so one failure there (an expired token) wiped every sibling field of the
answer. Turning it nullable would break the released contract (generated app code reads it as non-null),
so it stays until its removal date and `syncChanges` is the same page, nullable like every root field.
"""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.types.sync import SyncPage
from core.clock import utc_now
from core.errors import DomainError, ErrorCode
from core.settings import Settings
from sync.pull import PullRequest, pull

PULL_DEPRECATION = ("Non-null, so an error here wipes the whole answer: use syncChanges (same arguments, same "
                    "page, nullable). Removal: 2027-06-30")


def pull_request(settings: Settings, *, checkpoint: str | None, schema_version: int, limit: int | None,
                 max_bytes: int | None) -> PullRequest:
    limit = settings.sync.page_limit if limit is None else limit
    if not 1 <= limit <= settings.sync.page_limit:
        raise DomainError(ErrorCode.PAGE_SIZE_TOO_LARGE, field="limit", maximum=settings.sync.page_limit)
    max_bytes = settings.sync.page_max_bytes if max_bytes is None else max(1024, min(max_bytes, 4_000_000))
    return PullRequest(checkpoint=checkpoint, schema_version=schema_version, limit=limit, max_bytes=max_bytes)


async def _page(info: Info, *, schema_version: int, checkpoint: str | None, limit: int | None,
                max_bytes: int | None) -> SyncPage:
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    request = pull_request(ctx.settings, checkpoint=checkpoint, schema_version=schema_version, limit=limit,
                           max_bytes=max_bytes)
    async with ctx.db.read() as session:
        page = await pull(session, citizen_id=citizen_id, request=request, epoch=ctx.settings.sync.epoch)
    return SyncPage.from_page(page, now=utc_now())


@strawberry.type
class SyncQuery:
    @strawberry.field(description="Changes after `checkpoint` (none: everything), cut by `limit` and by "
                                  "`maxBytes` of gzip. Needs a token; without one it is null with an "
                                  "UNAUTHENTICATED error and the other fields still answer.")
    async def sync_changes(self, info: Info, schema_version: int, checkpoint: str | None = None,
                           limit: int | None = None, max_bytes: int | None = None) -> SyncPage | None:
        return await _page(info, schema_version=schema_version, checkpoint=checkpoint, limit=limit,
                           max_bytes=max_bytes)

    @strawberry.field(description="As syncChanges, but non-null.", deprecation_reason=PULL_DEPRECATION)
    async def sync_pull(self, info: Info, schema_version: int, checkpoint: str | None = None,
                        limit: int | None = None, max_bytes: int | None = None) -> SyncPage:
        return await _page(info, schema_version=schema_version, checkpoint=checkpoint, limit=limit,
                           max_bytes=max_bytes)
