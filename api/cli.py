"""`superapp`: serve | sandbox | migrate | seed | token. Each command reads the same SUPERAPP_* settings."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.settings import Settings


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from core.migrate import upgrade

    upgrade(settings.database_url)
    print("database migrated to head")
    return 0


def _seed(settings: Settings, _: argparse.Namespace) -> int:
    from core.db import Database
    from core.deadlines import HolidayCalendar
    from core.seed import seed

    async def run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            return await seed(db, calendar=HolidayCalendar.load(settings.holidays_file),
                              tz_name=settings.timezone)
        finally:
            await db.dispose()

    created = asyncio.run(run())
    print(f"demo data seeded ({created} new dossiers)")
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from api.auth import issue_dev_token
    from core.id_numbers import looks_like_id_number
    from core.seed import DEMO_CITIZEN_ID_NUMBER

    id_number = DEMO_CITIZEN_ID_NUMBER if args.demo else args.citizen
    if not looks_like_id_number(id_number):
        print(f"not a personal identification number: {id_number!r}", file=sys.stderr)
        return 2
    if not settings.eid_accept_dev_key:
        print("warning: this server does not accept development tokens "
              "(SUPERAPP_EID_ACCEPT_DEV_KEY is off)", file=sys.stderr)
    print(f"e-ID development token for citizen ending {id_number[-2:]}, valid {args.ttl} s:", file=sys.stderr)
    print(issue_dev_token(settings, id_number=id_number, ttl_seconds=args.ttl))
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=settings.log_level.lower(),
                proxy_headers=True)
    return 0


def _sandbox(settings: Settings, _: argparse.Namespace) -> int:
    from services.sandbox_runner import serve_sandboxes

    print(f"agency sandboxes starting; status events go to {settings.sandbox_callback_url}")
    asyncio.run(serve_sandboxes(settings))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="superapp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)
    sub.add_parser("sandbox", help="run the agency sandboxes on their loopback ports").set_defaults(
        handler=_sandbox)
    sub.add_parser("migrate", help="upgrade the database to the newest migration").set_defaults(handler=_migrate)
    sub.add_parser("seed", help="load the demo catalogue, citizens and dossiers").set_defaults(handler=_seed)
    token = sub.add_parser("token", help="print a development e-ID token (last line of output)")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--citizen", metavar="ID_NUMBER")
    who.add_argument("--demo", action="store_true", help="the first seeded demo citizen")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    token.set_defaults(handler=_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
