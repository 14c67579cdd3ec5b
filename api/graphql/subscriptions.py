"""Subscription root: `dossierStatusChanged`, the signed-in citizen's own status changes, live.

Changes reach this process through `core.live.HUB` (PostgreSQL LISTEN/NOTIFY feeds it across processes,
see `api/live.py`; on SQLite the status change publishes to it after commit). The filter on the citizen
is here, before anything is read: another citizen's change never leaves the hub.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import LocalizedText
from api.graphql.types.dossier import Dossier
from api.graphql.types.notifications import DossierStatusChange
from core.dossier_status import DossierStatus
from core.dossiers import citizen_dossier_by_id
from core.errors import DomainError
from core.live import HUB, StatusChange

QUEUE_SIZE = 100


async def _changes(info: Info) -> AsyncGenerator[DossierStatusChange, None]:
    citizen_id = await info.context.citizen_id()
    queue: asyncio.Queue[StatusChange] = asyncio.Queue(maxsize=QUEUE_SIZE)

    def listen(change: StatusChange) -> None:
        if change.citizen_id == citizen_id and not queue.full():
            queue.put_nowait(change)

    key = HUB.subscribe(listen)
    try:
        while True:
            change = await queue.get()
            try:
                async with info.context.db.read() as session:
                    row = await citizen_dossier_by_id(session, citizen_id=citizen_id, dossier_id=change.dossier_id)
                dossier: Dossier | None = Dossier.from_row(row)
            except DomainError:
                dossier = None
            status = DossierStatus(change.status)
            yield DossierStatusChange(dossier_code=change.dossier_code, status=status,
                                      status_code=status.national_code,
                                      status_label=LocalizedText(vi=status.label_vi, en=status.label_en),
                                      occurred_at=datetime.fromisoformat(change.occurred_at), dossier=dossier)
    finally:
        HUB.unsubscribe(key)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Status changes of the signed-in citizen's dossiers. Needs a token "
                                         "(Authorization header or `connection_init` payload).")
    async def dossier_status_changed(self, info: Info) -> AsyncGenerator[DossierStatusChange, None]:
        async for change in _changes(info):
            yield change
