"""One DataLoader per nested list or reference, made fresh per request, so no field queries per row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from core.catalogue import agencies_by_ids, procedures_by_ids
from core.db import Database
from core.documents import documents_for_dossiers
from core.dossiers import events_for
from core.interconnected import parts_of
from core.models import Agency, Document, Dossier, DossierEvent, DossierRating, Procedure, Upload
from core.ratings import ratings_for
from core.uploads import of_dossiers

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    db: Database, fetch: Callable[..., Awaitable[dict[int, V]]], default: Callable[[], V] | None = None
) -> DataLoader[int, V]:
    async def load(keys: Sequence[int]) -> list[V]:
        async with db.read() as session:
            found = await fetch(session, list(keys))
        if default is None:
            return [found[k] for k in keys]
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class Loaders:
    procedure: DataLoader[int, Procedure]
    agency: DataLoader[int, Agency]
    events: DataLoader[int, list[DossierEvent]]
    documents: DataLoader[int, list[Document]]
    parts: DataLoader[int, list[Dossier]]
    attachments: DataLoader[int, list[Upload]]
    ratings: DataLoader[int, DossierRating | None]

    @classmethod
    def create(cls, db: Database) -> Loaders:
        return cls(
            procedure=_loader(db, procedures_by_ids),
            agency=_loader(db, agencies_by_ids),
            events=_loader(db, events_for, list),
            documents=_loader(db, documents_for_dossiers, list),
            parts=_loader(db, parts_of, list),
            attachments=_loader(db, of_dossiers, list),
            ratings=_loader(db, ratings_for, lambda: None),
        )
