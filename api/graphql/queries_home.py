"""`homeScreen`: the home screen's sections, laid out by the server (core/home_layout.py)."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.types.catalogue import Procedure
from api.graphql.types.common import LocalizedText
from api.graphql.types.dossier import Document, Dossier
from api.graphql.types.home import (
    ActionNeededItem,
    Announcement,
    FrequentServices,
    HomeLayout,
    HomeSection,
    WalletSummary,
)
from core import home_layout
from core.clock import utc_now

# The extra cost of one homeScreen (api/graphql/cost.py): its sections' lists are bounded (10 dossiers, 3
# documents, 12 procedures, 10 announcements) but unpaged, so the root carries what they can add.
HOME_SCREEN_WEIGHT = 50


def _section(row: home_layout.Section) -> HomeSection:
    vi, en = row.title
    section = HomeSection(kind=row.kind, title=LocalizedText(vi=vi, en=en))
    if row.action_needed is not None:
        section.action_needed = [ActionNeededItem(reason=i.reason, dossier=Dossier.from_row(i.dossier))
                                 for i in row.action_needed]
    if row.wallet is not None:
        section.wallet = WalletSummary(document_count=row.wallet.count,
                                       newest_documents=[Document.from_row(d) for d in row.wallet.newest])
    if row.frequent is not None:
        section.frequent_services = FrequentServices(
            personalized=row.frequent.personalized, procedures=[Procedure.from_row(p) for p in row.frequent.procedures])
        section.public = not row.frequent.personalized
    if row.announcements is not None:
        section.announcements = [Announcement.from_row(a, agency) for a, agency in row.announcements]
        section.public = True
    return section


@strawberry.type
class HomeQuery:
    @strawberry.field(description="The home screen's sections in the order to draw them, the caller's own items "
                                  "first. Without a token: only generic sections (frequent services, "
                                  "announcements), the same for everyone. `province`: a 3-digit province code "
                                  "whose announcements join the nationwide ones (UNKNOWN_PROVINCE otherwise).")
    async def home_screen(self, info: Info, province: str | None = None) -> HomeLayout | None:
        context = info.context
        # A token that fails is UNAUTHENTICATED (the app refreshes it), not a quiet anonymous layout.
        citizen_id = await context.citizen_id() if context.principal is not None or context.auth_error else None
        async with context.db.read() as session:
            rows = await home_layout.home_screen(session, citizen_id=citizen_id, province=province, now=utc_now(),
                                                 today=context.today, calendar=context.calendar)
        return HomeLayout(sections=[_section(r) for r in rows], province=province,
                          personalized=citizen_id is not None)
