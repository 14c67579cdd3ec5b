"""`superapp home ...` and `superapp announcements ...`: the operators' side of the home screen.

The layout lives in two tables that every `homeScreen` reads, so a change here shows on the app's next request
with no deploy and no restart: `home show`, `home order KIND...`, `home enable|disable KIND`, `home defaults
CODE...`. Announcements are added, listed and withdrawn the same way; their text is checked exactly as an
agency's (core/announcements.py): bounded lengths, no ID number or phone number. Nothing printed is personal.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import announcements, home_layout
from core.clock import utc_now
from core.db import Database
from core.errors import DomainError
from core.settings import Settings

Print = Callable[[str], None]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser],  # noqa: SLF001 (argparse's own type)
                handler: Callable[[Settings, argparse.Namespace], int]) -> None:
    """The two command groups, on the main parser's subcommands."""
    home = sub.add_parser("home", help="the home screen's layout: section order, sections on/off, default services")
    home_sub = home.add_subparsers(dest="home_command", required=True)
    home_sub.add_parser("show", help="the sections in order (on/off) and the default frequent services")
    order = home_sub.add_parser("order", help="put these kinds first, in this order (the others follow)")
    order.add_argument("kinds", nargs="+", metavar="KIND", help=", ".join(home_layout.SectionKind))
    home_sub.add_parser("enable", help="show a section kind").add_argument("kind", metavar="KIND")
    home_sub.add_parser("disable", help="hide a section kind").add_argument("kind", metavar="KIND")
    defaults = home_sub.add_parser("defaults", help="the frequent services shown to new and anonymous callers")
    defaults.add_argument("codes", nargs="*", metavar="PROCEDURE_CODE", help="none: clear the list")
    home.set_defaults(handler=handler)
    notices = sub.add_parser("announcements", help="agencies' announcements on the home screen")
    notices_sub = notices.add_subparsers(dest="announcements_command", required=True)
    add = notices_sub.add_parser("add", help="publish one (vi and en; never personal)")
    add.add_argument("--agency", required=True, help="issuing agency's catalogue code, e.g. G09")
    add.add_argument("--title-vi", required=True)
    add.add_argument("--title-en", required=True)
    add.add_argument("--body-vi", required=True)
    add.add_argument("--body-en", required=True)
    add.add_argument("--starts", help="ISO 8601 with offset (default: now)")
    window = add.add_mutually_exclusive_group(required=True)
    window.add_argument("--ends", help="ISO 8601 with offset")
    window.add_argument("--days", type=float, help="valid this many days from --starts")
    add.add_argument("--province", action="append", default=[], metavar="PPP",
                     help="3-digit province code (repeatable); none: nationwide")
    add.add_argument("--priority", type=int, default=0, help="0-100, higher first (default 0)")
    notices_sub.add_parser("list", help="every stored announcement with its state")
    notices_sub.add_parser("withdraw", help="stop showing one now").add_argument("id", type=int)
    notices.set_defaults(handler=handler)


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise _bad(option, text) from error
    if moment.tzinfo is None:
        raise _bad(option, text)
    return moment


class _Usage(Exception):
    pass


def _bad(option: str, text: str) -> _Usage:
    return _Usage(f"{option}: not an ISO 8601 date-time with a UTC offset: {text[:40]!r}")


async def _show(session: AsyncSession, out: Print) -> None:
    settings = await home_layout.load_settings(session)
    enabled = {s.kind: s.enabled for s in settings}
    for position, kind in enumerate(home_layout.arrange_all(settings), start=1):
        own = "own items" if kind in home_layout.OWN else "generic"
        out(f"{position}. {kind:<18} {'on' if enabled.get(kind, True) else 'off':<4} ({own})")
    codes = await home_layout.default_services(session)
    out(f"default frequent services: {', '.join(codes) if codes else '(none)'}")
    out("the citizen's own items (ACTION_NEEDED, WALLET) always come before generic ones")


async def _home(db: Database, args: argparse.Namespace, out: Print) -> int:
    command = args.home_command
    if command == "order":
        kinds = home_layout.parse_kinds(args.kinds)
        await db.transaction(lambda s: home_layout.save_order(s, kinds))
    elif command in ("enable", "disable"):
        kind = home_layout.parse_kinds([args.kind])[0]
        await db.transaction(lambda s: home_layout.save_enabled(s, kind, command == "enable"))
    elif command == "defaults":
        await db.transaction(lambda s: home_layout.save_default_services(s, args.codes))
    async with db.read() as session:
        await _show(session, out)
    if command != "show":
        out("in effect from the next homeScreen request")
    return 0


async def _add(db: Database, args: argparse.Namespace, out: Print) -> int:
    starts = _moment(args.starts, "--starts") if args.starts else utc_now()
    if args.days is not None:
        if not 0 < args.days <= 366:
            raise _Usage("--days: more than 0, at most 366")
        ends = starts + timedelta(days=args.days)
    else:
        ends = _moment(args.ends, "--ends")
    draft = announcements.Draft(agency_code=args.agency, title_vi=args.title_vi, title_en=args.title_en,
                                body_vi=args.body_vi, body_en=args.body_en, starts_at=starts, ends_at=ends,
                                provinces=args.province, priority=args.priority)
    row = await db.transaction(lambda s: announcements.create(s, draft))
    where = ", ".join(announcements.province_codes(row)) or "nationwide"
    out(f"announcement {row.id} added: {row.starts_at:%Y-%m-%d %H:%M} to {row.ends_at:%Y-%m-%d %H:%M} UTC, {where}")
    return 0


async def _list(db: Database, out: Print) -> int:
    async with db.read() as session:
        rows = await announcements.every(session)
    now = utc_now()
    out(f"{'id':>5}  {'state':<9}  {'agency':<20}  {'starts (UTC)':<16}  {'ends (UTC)':<16}  {'prio':>4}  "
        "provinces  title (vi)")
    for row in rows:
        where = ",".join(announcements.province_codes(row)) or "all"
        out(f"{row.id:>5}  {announcements.state(row, now):<9}  {row.agency_code:<20}  "
            f"{row.starts_at:%Y-%m-%d %H:%M}  {row.ends_at:%Y-%m-%d %H:%M}  {row.priority:>4}  {where:<9}  "
            f"{row.title_vi}")
    out(f"{len(rows)} announcement(s)")
    return 0


async def _withdraw(db: Database, announcement_id: int, out: Print, err: Print) -> int:
    row = await db.transaction(lambda s: announcements.withdraw(s, announcement_id=announcement_id, now=utc_now()))
    if row is None:
        err(f"announcement {announcement_id} is unknown or already withdrawn")
        return 1
    out(f"announcement {announcement_id} withdrawn: gone from the next homeScreen")
    return 0


def run(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    """Exit 0 done, 1 nothing to act on, 2 a refused input (each problem printed, vi and en)."""
    async def main() -> int:
        db = Database.from_url(settings.database_url)
        try:
            work: Awaitable[int]
            if args.command == "home":
                work = _home(db, args, out)
            elif args.announcements_command == "add":
                work = _add(db, args, out)
            elif args.announcements_command == "list":
                work = _list(db, out)
            else:
                work = _withdraw(db, args.id, out, err)
            return await work
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except _Usage as error:
        err(str(error))
        return 2
    except DomainError as error:
        for problem in error.errors:
            err(f"{problem.code.value} {problem.field or ''}: {problem.message_en} / {problem.message_vi}")
        return 2
