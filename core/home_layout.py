"""The home screen's layout: which sections, in which order, with what in them, decided by the server.

Operators set the order of the sections, which are on, and the default "frequent services" in two tables
(`superapp home ...`), read on every request: a change shows on the next request, no deploy. Two rules hold
whatever they configure:

- the citizen's own items first: sections holding the caller's own things (`OWN`: dossiers needing action,
  the wallet) come before generic ones (frequent services, announcements); within each group the configured
  order holds;
- an empty section is left out, and an anonymous caller gets only generic sections (nobody's data).

`arrange` is the pure rule; `load_settings` / `save_*` are the operators' tables; the contents are fetched
by the functions below, each narrow and authorized by `citizen_id` like every citizen query in core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import case, delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import announcements
from core.clock import utc_now
from core.deadlines import HolidayCalendar, deadline_for
from core.documents import citizen_documents
from core.dossier_status import CLOCK_RUNNING, DossierStatus
from core.errors import DomainError, ErrorCode
from core.models import Agency, Announcement, Document, Dossier, HomeDefaultService, HomeSectionSetting, Procedure

ACTION_NEEDED_AT_MOST = 10
NEWEST_DOCUMENTS = 3
FREQUENT_AT_MOST = 6
DEFAULT_SERVICES_AT_MOST = 12


class SectionKind(StrEnum):
    ACTION_NEEDED = "ACTION_NEEDED"
    WALLET = "WALLET"
    FREQUENT_SERVICES = "FREQUENT_SERVICES"
    ANNOUNCEMENTS = "ANNOUNCEMENTS"


OWN: frozenset[SectionKind] = frozenset({SectionKind.ACTION_NEEDED, SectionKind.WALLET})
DEFAULT_ORDER: tuple[SectionKind, ...] = (SectionKind.ACTION_NEEDED, SectionKind.WALLET,
                                          SectionKind.FREQUENT_SERVICES, SectionKind.ANNOUNCEMENTS)
TITLES: dict[SectionKind, tuple[str, str]] = {
    SectionKind.ACTION_NEEDED: ("Hồ sơ cần bạn xử lý", "Dossiers needing your action"),
    SectionKind.WALLET: ("Ví giấy tờ", "Document wallet"),
    SectionKind.FREQUENT_SERVICES: ("Dịch vụ thường dùng", "Frequent services"),
    SectionKind.ANNOUNCEMENTS: ("Thông báo", "Announcements"),
}


class ActionReason(StrEnum):
    """Why a dossier is on the home screen, most urgent first."""

    SUPPLEMENT_REQUESTED = "SUPPLEMENT_REQUESTED"
    PAYMENT_REQUESTED = "PAYMENT_REQUESTED"
    OVERDUE = "OVERDUE"
    DUE_SOON = "DUE_SOON"


URGENCY = list(ActionReason)


@dataclass(frozen=True)
class SectionSetting:
    kind: SectionKind
    position: int
    enabled: bool


def arrange(settings: Sequence[SectionSetting], *, signed_in: bool) -> list[SectionKind]:
    """The kinds to show, in order: configured order, then own before generic; disabled ones and (for an
    anonymous caller) own ones left out. A kind the table does not name yet (added by a later release) comes
    after the named ones, on."""
    named = {s.kind: s for s in settings}
    ordered = sorted(named.values(), key=lambda s: (s.position, DEFAULT_ORDER.index(s.kind)))
    kinds = [s.kind for s in ordered if s.enabled] + [k for k in DEFAULT_ORDER if k not in named]
    own = [k for k in kinds if k in OWN]
    return (own if signed_in else []) + [k for k in kinds if k not in OWN]


async def load_settings(session: AsyncSession) -> list[SectionSetting]:
    rows = (await session.execute(select(HomeSectionSetting))).scalars()
    return [SectionSetting(SectionKind(r.kind), r.position, r.enabled)
            for r in rows if r.kind in SectionKind.__members__]


def parse_kinds(names: Sequence[str]) -> list[SectionKind]:
    """Operators' input: known kinds, each once."""
    kinds: list[SectionKind] = []
    for name in names:
        cleaned = name.strip().upper()
        if cleaned not in SectionKind.__members__:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field="kind",
                              detail=f"loại mục '{cleaned[:40]}' không tồn tại ({', '.join(SectionKind)})",
                              detail_en=f"unknown section kind '{cleaned[:40]}' ({', '.join(SectionKind)})")
        if SectionKind(cleaned) in kinds:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field="kind", detail=f"'{cleaned}' lặp lại",
                              detail_en=f"'{cleaned}' named twice")
        kinds.append(SectionKind(cleaned))
    return kinds


async def save_order(session: AsyncSession, kinds: Sequence[SectionKind]) -> list[SectionSetting]:
    """The named kinds first, in that order; the others keep their relative order after them."""
    current = {s.kind: s for s in await load_settings(session)}
    rest = [k for k in arrange_all(list(current.values())) if k not in kinds]
    for position, kind in enumerate([*kinds, *rest]):
        enabled = current[kind].enabled if kind in current else True
        await _put(session, kind, position=position, enabled=enabled)
    return await load_settings(session)


async def save_enabled(session: AsyncSession, kind: SectionKind, enabled: bool) -> list[SectionSetting]:
    current = {s.kind: s for s in await load_settings(session)}
    order = arrange_all(list(current.values()))
    for position, each in enumerate(order):
        await _put(session, each, position=position, enabled=enabled if each == kind else
                   (current[each].enabled if each in current else True))
    return await load_settings(session)


def arrange_all(settings: Sequence[SectionSetting]) -> list[SectionKind]:
    """Every kind in configured order, disabled ones included (the operators' view)."""
    named = sorted(settings, key=lambda s: (s.position, DEFAULT_ORDER.index(s.kind)))
    return [s.kind for s in named] + [k for k in DEFAULT_ORDER if k not in {s.kind for s in settings}]


async def _put(session: AsyncSession, kind: SectionKind, *, position: int, enabled: bool) -> None:
    row = await session.get(HomeSectionSetting, kind.value)
    if row is None:
        row = HomeSectionSetting(kind=kind.value, position=position, enabled=enabled)
    row.position, row.enabled, row.updated_at = position, enabled, utc_now()
    session.add(row)


async def default_services(session: AsyncSession) -> list[str]:
    query = select(HomeDefaultService.procedure_code).order_by(col(HomeDefaultService.position))
    return list((await session.execute(query)).scalars())


async def save_default_services(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    """Replace the list; every code must be an active procedure of the catalogue."""
    cleaned = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if len(cleaned) > DEFAULT_SERVICES_AT_MOST:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field="procedureCodes",
                          detail=f"tối đa {DEFAULT_SERVICES_AT_MOST} thủ tục",
                          detail_en=f"at most {DEFAULT_SERVICES_AT_MOST} procedures")
    known = set((await session.execute(select(Procedure.code).where(
        col(Procedure.code).in_(cleaned), col(Procedure.active).is_(True)))).scalars())
    missing = [c for c in cleaned if c not in known]
    if missing:
        raise DomainError(ErrorCode.PROCEDURE_NOT_AVAILABLE, field="procedureCodes", code=missing[0][:40])
    await session.execute(delete(HomeDefaultService))
    for position, code in enumerate(cleaned):
        session.add(HomeDefaultService(procedure_code=code, position=position))
    return cleaned


@dataclass(frozen=True)
class ActionItem:
    reason: ActionReason
    dossier: Dossier


async def action_needed(session: AsyncSession, *, citizen_id: int, today: date,
                        calendar: HolidayCalendar) -> list[ActionItem]:
    """The citizen's dossiers that want something from them or are running late, most urgent first: the agency
    asked for a supplement or a payment, or the agency's clock is past or near the due date
    (core/deadlines.py). Top-level dossiers only; an interconnected one's parts show inside it."""
    asked = [DossierStatus.SUPPLEMENT_REQUESTED.value, DossierStatus.PAYMENT_REQUESTED.value]
    running = [s.value for s in CLOCK_RUNNING]
    # A superset of "due soon" (a due date on the weekend after tomorrow's working day is one working day
    # away too); `deadline_for` below decides exactly. The citizen's own to-dos sort first, so a long list of
    # late dossiers never pushes a request for a supplement out of the window read.
    horizon = calendar.add_working_days(today, 2)
    query = (select(Dossier).where(Dossier.citizen_id == citizen_id, col(Dossier.parent_id).is_(None),
                                   col(Dossier.status).in_(asked)
                                   | (col(Dossier.status).in_(running) & (col(Dossier.due_date) <= horizon)))
             .order_by(case((col(Dossier.status).in_(asked), 0), else_=1), col(Dossier.due_date), col(Dossier.id))
             .limit(ACTION_NEEDED_AT_MOST * 4))
    items: list[ActionItem] = []
    for row in (await session.execute(query)).scalars():
        status = DossierStatus(row.status)
        if status == DossierStatus.SUPPLEMENT_REQUESTED:
            items.append(ActionItem(ActionReason.SUPPLEMENT_REQUESTED, row))
        elif status == DossierStatus.PAYMENT_REQUESTED:
            items.append(ActionItem(ActionReason.PAYMENT_REQUESTED, row))
        else:
            deadline = deadline_for(status=status, due_date=row.due_date, today=today, calendar=calendar)
            if deadline.overdue or deadline.due_soon:
                items.append(ActionItem(ActionReason.OVERDUE if deadline.overdue else ActionReason.DUE_SOON, row))
    items.sort(key=lambda item: URGENCY.index(item.reason))  # stable: due date order within a reason
    return items[:ACTION_NEEDED_AT_MOST]


@dataclass(frozen=True)
class WalletSummary:
    count: int
    newest: list[Document]


async def wallet(session: AsyncSession, *, citizen_id: int) -> WalletSummary:
    count = (await session.execute(select(func.count()).select_from(Document)
                                   .where(Document.citizen_id == citizen_id))).scalar_one()
    newest = (await citizen_documents(session, citizen_id=citizen_id))[:NEWEST_DOCUMENTS] if count else []
    return WalletSummary(count=int(count), newest=newest)


@dataclass(frozen=True)
class FrequentServices:
    procedures: list[Procedure]
    personalized: bool  # from the caller's own filings (so personal), else the operators' default list


async def frequent_services(session: AsyncSession, *, citizen_id: int | None) -> FrequentServices:
    """The active procedures the citizen files most (most recent first among equals); for a caller with no
    filing history, or anonymous, the operators' default list."""
    if citizen_id is not None:
        filed = (select(Dossier.procedure_id, func.count().label("n"), func.max(Dossier.submitted_at).label("last"))
                 .where(Dossier.citizen_id == citizen_id, col(Dossier.parent_id).is_(None))
                 .group_by(col(Dossier.procedure_id)).subquery())
        query = (select(Procedure).join(filed, filed.c.procedure_id == Procedure.id)
                 .where(col(Procedure.active).is_(True))
                 .order_by(filed.c.n.desc(), filed.c.last.desc(), col(Procedure.code)).limit(FREQUENT_AT_MOST))
        mine = list((await session.execute(query)).scalars())
        if mine:
            return FrequentServices(mine, personalized=True)
    codes = await default_services(session)
    rows = {p.code: p for p in (await session.execute(select(Procedure).where(
        col(Procedure.code).in_(codes), col(Procedure.active).is_(True)))).scalars()}
    return FrequentServices([rows[c] for c in codes if c in rows], personalized=False)


@dataclass(frozen=True)
class Section:
    """One section to draw, with only the content of its kind set."""

    kind: SectionKind
    action_needed: list[ActionItem] | None = None
    wallet: WalletSummary | None = None
    frequent: FrequentServices | None = None
    announcements: list[tuple[Announcement, Agency]] | None = None

    @property
    def title(self) -> tuple[str, str]:
        return TITLES[self.kind]


async def _announced(session: AsyncSession, *, now: datetime,
                     province: str | None) -> list[tuple[Announcement, Agency]]:
    rows = await announcements.visible(session, now=now, province=province)
    codes = {r.agency_code for r in rows}
    agencies = {a.code: a for a in (await session.execute(
        select(Agency).where(col(Agency.code).in_(codes)))).scalars()} if codes else {}
    return [(r, agencies[r.agency_code]) for r in rows if r.agency_code in agencies]


async def home_screen(session: AsyncSession, *, citizen_id: int | None, province: str | None, now: datetime,
                      today: date, calendar: HolidayCalendar) -> list[Section]:
    """The sections for this caller, in order, empty ones left out. `citizen_id` None: anonymous, generic
    sections only. The layout is read from the operators' table on every call (no cache to go stale)."""
    kinds = arrange(await load_settings(session), signed_in=citizen_id is not None)
    province = announcements.check_province(province)
    sections: list[Section] = []
    for kind in kinds:
        if kind == SectionKind.ACTION_NEEDED and citizen_id is not None:
            items = await action_needed(session, citizen_id=citizen_id, today=today, calendar=calendar)
            if items:
                sections.append(Section(kind, action_needed=items))
        elif kind == SectionKind.WALLET and citizen_id is not None:
            summary = await wallet(session, citizen_id=citizen_id)
            if summary.count:
                sections.append(Section(kind, wallet=summary))
        elif kind == SectionKind.FREQUENT_SERVICES:
            frequent = await frequent_services(session, citizen_id=citizen_id)
            if frequent.procedures:
                sections.append(Section(kind, frequent=frequent))
        elif kind == SectionKind.ANNOUNCEMENTS:
            shown = await _announced(session, now=now, province=province)
            if shown:
                sections.append(Section(kind, announcements=shown))
    return sections
