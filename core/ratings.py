"""A citizen rates a dossier once its result is returned: 1-5 stars and an optional comment.

The programme's reviews name "no measurement of service quality" as something that holds provinces back;
ratings feed the public figures (`core.figures`). One rating per dossier (the table's primary key), by its
owner only, only in status RETURNED. The same rules whether it comes from `rateDossier` or from the offline
intent `dossier.rate`, and the same limits on SQLite and PostgreSQL (checked here, not by the database).
The comment may name people: it is shown back to its author only, never published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.dossier_status import DossierStatus
from core.dossiers import CLIENT_MUTATION_ID_MAX, citizen_dossier, stamp_dossier
from core.errors import DomainError, ErrorCode
from core.models import Dossier, DossierRating
from core.text import unstorable

STARS_MIN, STARS_MAX = 1, 5
COMMENT_MAX = 1000
RATEABLE = frozenset({DossierStatus.RETURNED})


def checked_comment(comment: str | None) -> str | None:
    """Trimmed, None when blank; INVALID_LENGTH over COMMENT_MAX characters, INVALID_VALUE for NUL."""
    if comment is None:
        return None
    if unstorable(comment):
        raise DomainError(ErrorCode.INVALID_VALUE, field="comment", label="comment")
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise DomainError(ErrorCode.INVALID_LENGTH, field="comment", label="comment")
    return text or None


def checked_stars(stars: object) -> int:
    if not isinstance(stars, int) or isinstance(stars, bool) or not STARS_MIN <= stars <= STARS_MAX:
        raise DomainError(ErrorCode.OUT_OF_RANGE, field="stars", label="stars")
    return stars


async def ratings_for(session: AsyncSession, dossier_ids: Sequence[int]) -> dict[int, DossierRating | None]:
    query = select(DossierRating).where(col(DossierRating.dossier_id).in_(dossier_ids))
    found: dict[int, DossierRating | None] = {r.dossier_id: r for r in (await session.execute(query)).scalars()}
    return found


async def rating_of(session: AsyncSession, dossier_id: int) -> DossierRating | None:
    return await session.get(DossierRating, dossier_id)


async def rate_dossier(session: AsyncSession, *, citizen_id: int, code: str, stars: object, comment: str | None,
                       now: datetime, client_mutation_id: str | None = None) -> tuple[Dossier, DossierRating]:
    """Store the rating under the dossier's row lock (so two devices rating at once cannot both succeed).
    A retry of the request that rated (same `client_mutation_id`) gets the stored rating back."""
    if client_mutation_id is not None and len(client_mutation_id) > CLIENT_MUTATION_ID_MAX:
        raise DomainError(ErrorCode.INVALID_LENGTH, field="clientMutationId", label="clientMutationId")
    value, text = checked_stars(stars), checked_comment(comment)
    dossier = await citizen_dossier(session, citizen_id=citizen_id, code=code, for_update=True)
    assert dossier.id is not None
    existing = await rating_of(session, dossier.id)
    if existing is not None:
        if client_mutation_id is not None and existing.client_mutation_id == client_mutation_id:
            return dossier, existing
        raise DomainError(ErrorCode.ALREADY_RATED, field="dossierCode")
    current = DossierStatus(dossier.status)
    if current not in RATEABLE:
        raise DomainError(ErrorCode.NOT_RATEABLE, field="dossierCode", current=current.label_vi,
                          current_en=current.label_en)
    rating = DossierRating(dossier_id=dossier.id, procedure_id=dossier.procedure_id, agency_id=dossier.agency_id,
                           stars=value, comment=text, client_mutation_id=client_mutation_id, rated_at=now)
    session.add(rating)
    # The dossier record now carries its rating: every device of the citizen re-pulls it.
    dossier.version += 1
    dossier.updated_at = now
    session.add(dossier)
    await session.flush()
    await stamp_dossier(session, dossier)
    return dossier, rating
