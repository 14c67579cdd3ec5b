"""`homeScreen`: the sections of the app's home screen, in the order the server decides (core/home_layout.py).

**Decision (typed fields, not a union):** a `HomeSection` has its `kind`, its `title`, and one content field
per kind, of which exactly the one named by `kind` is set (the others are null). Every section therefore has
the same shape: one selection set draws them all, the normalized cache needs no `possibleTypes`, and a kind
added later is one more enum value and one more nullable field, which an app that does not know it skips
(mobile_contract/README.md, "Home screen"). The own-data fields (`actionNeeded`, `wallet`, a personalized
`frequentServices`) are `@personal`, so reading them is audited like `myDossiers` and `me.documents`.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.types.catalogue import Agency, Procedure
from api.graphql.types.common import LocalizedText
from api.graphql.types.dossier import Document, Dossier
from core import announcements, models
from core import home_layout as core_home
from services.registry import personal

HomeSectionKind = strawberry.enum(
    core_home.SectionKind, name="HomeSectionKind",
    description="What a home section holds. ACTION_NEEDED and WALLET are the caller's own items and come first; "
                "an app skips a kind it does not know (the list may grow).",
)
ActionReason = strawberry.enum(
    core_home.ActionReason, name="HomeActionReason",
    description="Why a dossier asks for the citizen's attention, most urgent first.",
)


@strawberry.type(description="A dossier on the home screen, and why.")
class ActionNeededItem:
    reason: ActionReason  # type: ignore[valid-type]
    dossier: Dossier


@strawberry.type(description="The wallet at a glance: how many documents, and the newest few.")
class WalletSummary:
    document_count: int
    newest_documents: list[Document] = strawberry.field(description="At most 3, newest first.")


@strawberry.type(description="Procedures to start from the home screen.")
class FrequentServices:
    personalized: bool = strawberry.field(description="True: the ones the citizen files most; false: the "
                                                      "operators' default list (new or anonymous callers).")
    procedures: list[Procedure] = strawberry.field(description="At most 12, in the order to show.")


@strawberry.type(description="A notice from an agency to everyone, or to the people of some provinces, valid "
                             "for a window of time. Never personal: the same for every caller.")
class Announcement:
    id: strawberry.ID = strawberry.field(description="Stable while the announcement exists (to remember "
                                                     "\"dismissed\" on the device).")
    agency: Agency = strawberry.field(description="The issuing agency.")
    title: LocalizedText
    body: LocalizedText
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="Not shown from this moment on; a cached copy must be "
                                                     "dropped then too.")
    provinces: list[str] = strawberry.field(description="3-digit province codes it is aimed at; empty: "
                                                        "nationwide.")
    priority: int = strawberry.field(description="0-100; the list is already sorted by it.")

    @classmethod
    def from_row(cls, row: models.Announcement, agency: models.Agency) -> Announcement:
        assert row.id is not None
        return cls(id=strawberry.ID(str(row.id)), agency=Agency.from_row(agency),
                   title=LocalizedText(vi=row.title_vi, en=row.title_en),
                   body=LocalizedText(vi=row.body_vi, en=row.body_en), starts_at=row.starts_at, ends_at=row.ends_at,
                   provinces=announcements.province_codes(row), priority=row.priority)


@strawberry.type(description="One section of the home screen. Exactly one content field is set: the one "
                             "`kind` names (ACTION_NEEDED: `actionNeeded`, WALLET: `wallet`, FREQUENT_SERVICES: "
                             "`frequentServices`, ANNOUNCEMENTS: `announcements`).")
class HomeSection:
    kind: HomeSectionKind  # type: ignore[valid-type]
    title: LocalizedText
    action_needed: list[ActionNeededItem] | None = strawberry.field(
        default=None, directives=[personal("dossiers")],
        description="The citizen's dossiers that need them or run late, most urgent first (at most 10).")
    wallet: WalletSummary | None = strawberry.field(default=None, directives=[personal("documents")])
    frequent_services: FrequentServices | None = strawberry.field(default=None, directives=[personal("dossiers")])
    announcements: list[Announcement] | None = strawberry.field(
        default=None, description="Valid now, for the asked province or nationwide; highest priority first "
                                  "(at most 10).")
    # Read by the audit wrapper (api/graphql/personal.py): a section that holds nobody's data (announcements,
    # the default services) is not a read of personal data.
    public: strawberry.Private[bool] = False


@strawberry.type(description="The home screen as the server lays it out: draw `sections` in this order.")
class HomeLayout:
    sections: list[HomeSection]
    province: str | None = strawberry.field(description="The province whose announcements were added to the "
                                                        "nationwide ones (the argument, checked).")
    personalized: bool = strawberry.field(description="False for a caller without a token: only generic "
                                                      "sections, the same for everyone (cacheable).")
