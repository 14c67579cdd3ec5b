"""`superapp`: serve | worker | sandbox | standins | migrate | seed | token | schema | contract | forward |
maintenance | audit | home | announcements | flags | apps | plugin | verify | keys."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from mobile_contract.usage import UsedOperation


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
    if not settings.auth.eid_accept_dev_key:
        print("warning: this server does not accept development tokens "
              "(SUPERAPP_EID_ACCEPT_DEV_KEY is off)", file=sys.stderr)
    print(f"e-ID development token for citizen ending {id_number[-2:]}, valid {args.ttl} s:", file=sys.stderr)
    print(issue_dev_token(settings, id_number=id_number, ttl_seconds=args.ttl))
    return 0


def _device_sim(_settings: Settings, args: argparse.Namespace) -> int:
    from api.device_sim import run

    return run(args, print)


def _sync_purge(settings: Settings, _: argparse.Namespace) -> int:
    """Run daily (cron or a scheduler): tombstones past retention go, and so does the 30-day draft trash."""
    from core.clock import utc_now
    from core.db import Database
    from sync.maintenance import purge

    async def run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            return await db.transaction(lambda session: purge(
                session, now=utc_now(), retention_days=settings.sync.tombstone_retention_days))
        finally:
            await db.dispose()

    print(f"{asyncio.run(run())} tombstones purged")
    return 0


def _maintenance(settings: Settings, _: argparse.Namespace) -> int:
    """Every retention rule once (core/retention.py), in short batches; one line per table, then the total."""
    from core.clock import utc_now
    from core.db import Database
    from core.retention import run

    async def go() -> dict[str, int]:
        db = Database.from_url(settings.database_url)
        try:
            return await run(db, settings, now=utc_now())
        finally:
            await db.dispose()

    removed = asyncio.run(go())
    for table, count in removed.items():
        print(f"{table}: {count} removed")
    print(f"maintenance done: {sum(removed.values())} rows removed")
    return 0


def _forward(settings: Settings, args: argparse.Namespace) -> int:
    from api.forward_cli import run

    return run(settings, args, print, lambda line: print(line, file=sys.stderr))


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from api.audit_cli import run

    return run(settings, args, print, lambda line: print(line, file=sys.stderr))


def _home(settings: Settings, args: argparse.Namespace) -> int:
    from api.home_cli import run

    return run(settings, args, print, lambda line: print(line, file=sys.stderr))


def _flags(settings: Settings, args: argparse.Namespace) -> int:
    from api.flags_cli import run

    return run(settings, args, print, lambda line: print(line, file=sys.stderr))


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from api.keys_cli import verify

    return verify(settings, args, print, lambda line: print(line, file=sys.stderr))


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from api.keys_cli import keys

    return keys(settings, args, print, lambda line: print(line, file=sys.stderr))


def _schema_export(settings: Settings, args: argparse.Namespace) -> int:
    from api.graphql.schema import contract_schema
    from mobile_contract.snapshot import SNAPSHOT, sdl

    target = Path(args.output) if args.output else SNAPSHOT
    target.write_text(sdl(contract_schema(settings)), encoding="utf-8")
    print(f"schema written to {target}")
    return 0


def _schema_check(settings: Settings, args: argparse.Namespace) -> int:
    """Compare the schema this server would serve (its settings, SUPERAPP_SERVICES, the installed plug-ins) with
    the released contract and, with `--deployment DIR`, with the deployment's snapshot (plug-in fields too) and
    its persisted operations; any breaking change exits 1 with a message that says so."""
    from api.graphql.schema import served_schema
    from mobile_contract import manifest
    from mobile_contract.compatibility import check, render
    from mobile_contract.deployment import SNAPSHOT_NAME, broken_documents
    from mobile_contract.snapshot import RELEASED, sdl

    schema = None if args.current else served_schema(settings)
    current = sdl(schema) if schema is not None else Path(args.current).read_text(encoding="utf-8")
    snapshots = [("released", Path(args.against) if args.against else RELEASED)]
    if args.deployment:
        snapshots.append(("deployment's", Path(args.deployment) / SNAPSHOT_NAME))
    try:
        used = _usage(settings, args.usage)
    except (OSError, ValueError) as error:
        print(f"cannot read the usage {args.usage}: {error}", file=sys.stderr)
        return 2
    if used is not None:
        print(f"usage: {len(used)} tracked operation(s), {sum(o.supported for o in used)} of supported app versions")
    failed = 0
    for kind, snapshot in snapshots:
        report = check(snapshot.read_text(encoding="utf-8"), current, used)
        print(f"against {snapshot}:\n{render(report)}")
        if not report.ok:
            failed += 1
            what = f"--current {args.current}" if args.current else "the schema this server would serve"
            print(f"\nSCHEMA CHECK FAILED: {what} breaks the {kind} contract {snapshot} "
                  f"({len(report.breaking)} breaking change(s), {len(report.undated_deprecations)} undated "
                  "deprecation(s)). Released apps would fail "
                  "against it: restore what is missing (an agency service disabled by SUPERAPP_SERVICES or not "
                  "installed, a plug-in field removed or renamed?) or follow the deprecation rule in "
                  "mobile_contract/README.md.", file=sys.stderr)
    if args.deployment and schema is not None:
        broken = broken_documents(manifest.load(Path(args.deployment) / manifest.MANIFEST.name), schema._schema)
        for line in broken:
            print(f"BREAKING {line}")
        if broken:
            failed += 1
            print(f"\nSCHEMA CHECK FAILED: {len(broken)} persisted operation(s) of {args.deployment} no longer "
                  "validate against the schema this server would serve.", file=sys.stderr)
    return 1 if failed else 0


def _usage(settings: Settings, source: str | None) -> list[UsedOperation] | None:
    """The operations app versions send, for the guard: `db` reads this server's database (its minimums decide
    which versions are supported), a path reads a usage file (`superapp contract usage --export`)."""
    if source is None:
        return None
    if source == "db":
        from api.apps_cli import database_usage

        return database_usage(settings)[2]
    from mobile_contract import usage

    return usage.load(Path(source))


def _apps(settings: Settings, args: argparse.Namespace) -> int:
    from api.apps_cli import run

    return run(settings, args, print, lambda line: print(line, file=sys.stderr))


def _contract_usage(settings: Settings, args: argparse.Namespace) -> int:
    from api.apps_cli import usage_report

    return usage_report(settings, args, print, lambda line: print(line, file=sys.stderr))


def _contract_build(settings: Settings, args: argparse.Namespace) -> int:
    from mobile_contract import manifest

    if args.deployment:
        return _deployment_build(settings, Path(args.deployment))
    count = manifest.write()
    print(f"{count} persisted documents written to {manifest.MANIFEST} and {manifest.APOLLO_MANIFEST}")
    return 0


def _contract_cost(settings: Settings, _: argparse.Namespace) -> int:
    """Each operation's cost as the server charges it, so front-end developers see what a screen spends."""
    from api.graphql.contract_costs import contract_costs

    costs = contract_costs(settings)
    width = max(len(c.name) for c in costs)
    print(f"{'operation':<{width}}  {'example':>7}  {'largest':>7}   (budget {costs[0].budget}, "
          "SUPERAPP_QUERY_MAX_COST)")
    for c in costs:
        print(f"{c.name:<{width}}  {c.cost:>7}  {c.largest:>7}")
    print("example: with <Name>.variables.json; largest: every page as large as the server allows")
    return 1 if any(c.largest > c.budget for c in costs) else 0


def _deployment_build(settings: Settings, directory: Path) -> int:
    """The deployment's manifests and snapshot: the app's operations and every enabled plug-in's, against the
    schema `serve` would serve. Exit 1 when a service is left out (its operations or fields would be missing)."""
    from api.app import admit_plugin_operations
    from api.graphql.schema import build_schema
    from mobile_contract import deployment, manifest
    from services.registry import load_registry

    registry = load_registry(settings)
    schema = build_schema(settings, registry)
    core = {path.stem: manifest.operation_text(path) for path in manifest.operation_files()}
    shipped = admit_plugin_operations(registry, schema, taken=core)
    count = deployment.write(directory, core=core, plugins=shipped.documents, schema=schema)
    print(f"{count} persisted documents ({len(shipped.documents)} of plug-ins: "
          f"{', '.join(sorted(set(shipped.owners.values()))) or 'none'}) and the schema written to {directory}")
    left_out = [row for row in registry.report() if row.reason is not None
                and (row.code in shipped.refused or row.code not in {p.code for p in registry.contributions()})]
    for row in left_out:
        print(f"service {row.code} is left out: {row.reason}", file=sys.stderr)
    return 1 if left_out else 0


def _plugin_check(settings: Settings, args: argparse.Namespace) -> int:
    from services.conformance.runner import run

    return run(settings, args.names, only=args.only or [], out=print, err=lambda line: print(line, file=sys.stderr))


class _DropQueryStrings(logging.Filter):
    """Access-log lines keep the path but not the query string, where GET variables could carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], record.args[2].split("?", 1)[0], *record.args[3:])
        return True


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.metrics import serve_metrics_port
    from api.server import uvicorn_config
    from services.agency_settings import InsecureAgencyUrl

    logging.getLogger("uvicorn.access").addFilter(_DropQueryStrings())
    app = create_app(settings)
    insecure = [f.error for f in app.state.services.failures.values() if f.error.startswith(InsecureAgencyUrl.__name__)]
    if insecure:  # personal data would cross the network in clear text: refuse to start at all
        for reason in insecure:
            print(f"superapp serve: {reason.removeprefix(InsecureAgencyUrl.__name__ + ': ')}", file=sys.stderr)
        return 2
    serve_metrics_port(settings)
    try:
        uvicorn.Server(uvicorn_config(app, settings, host=args.host, port=args.port)).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it has already shut down on
        pass
    return 0


def _sandbox(settings: Settings, _: argparse.Namespace) -> int:
    from services.sandbox_runner import plan_sandboxes, serve_sandboxes

    plan = plan_sandboxes(settings)
    print(f"agency sandboxes starting; status events go to {settings.agencies.sandbox_callback_url}")
    for line in plan.lines():
        print(line)
    if not plan.running and plan.gateway is None:
        print("no sandbox to run")
        return 1
    sys.stdout.flush()
    asyncio.run(serve_sandboxes(plan))
    return 0


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    import signal

    from notifications.dispatcher import run_worker

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    from api.metrics import serve_metrics_port

    serve_metrics_port(settings)
    print(f"notification worker: FCM at {settings.notifications.fcm_endpoint or 'Google'}, "
          f"SMS at {settings.notifications.sms_gateway_url or '(none)'}, retention every "
          f"{settings.retention.interval_seconds:g} s (0: off)", flush=True)
    asyncio.run(run())
    return 0


def _standins(settings: Settings, _: argparse.Namespace) -> int:
    import uvicorn

    from notifications.standins import FcmStandin, SmsStandin

    async def run() -> None:
        notify = settings.notifications
        apps = [(FcmStandin(project=notify.fcm_project_id).app(), notify.standin_fcm_port),
                (SmsStandin().app(), notify.standin_sms_port)]
        servers = [uvicorn.Server(uvicorn.Config(a, host="127.0.0.1", port=port, log_level="info",
                                                 timeout_graceful_shutdown=1)) for a, port in apps]
        await asyncio.gather(*(s.serve() for s in servers))

    print(f"FCM stand-in on http://127.0.0.1:{settings.notifications.standin_fcm_port} (GET /_control/received), "
          f"SMS stand-in on http://127.0.0.1:{settings.notifications.standin_sms_port}", flush=True)
    asyncio.run(run())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="superapp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)
    sub.add_parser("worker", help="run the notification worker (drains the outbox to FCM and SMS)").set_defaults(
        handler=_worker)
    sub.add_parser("standins", help="run the loopback FCM and SMS gateway stand-ins").set_defaults(
        handler=_standins)
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
    sim = sub.add_parser("device-sim", help="simulate a rural device offline on a lossy link, reconnecting")
    sim.add_argument("--loss", type=float, default=0.3, help="share of connections cut at a random byte")
    sim.add_argument("--seed", type=int, default=7)
    sim.set_defaults(handler=_device_sim)
    sub.add_parser("sync-purge", help="purge sync tombstones past retention and the expired draft trash").set_defaults(
        handler=_sync_purge)
    sub.add_parser("maintenance", help="delete finished rows past their retention, in batches; prints what "
                                       "each table lost").set_defaults(handler=_maintenance)
    schema = sub.add_parser("schema", help="the schema snapshot of the mobile contract")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_sub.add_parser("export", help="write the schema's SDL (default mobile_contract/schema.graphql)")
    export.add_argument("--output", metavar="FILE")
    export.set_defaults(handler=_schema_export)
    check = schema_sub.add_parser("check", help="list breaking and dangerous changes of the served schema against the "
                                                "released snapshot; exit 1 on a breaking one")
    check.add_argument("--against", metavar="FILE", help="default mobile_contract/released/schema.graphql")
    check.add_argument("--current", metavar="FILE", help="default: the schema `serve` would serve with these settings")
    check.add_argument("--deployment", metavar="DIR", help="also check against DIR's schema snapshot and persisted "
                                                          "operations (written by `contract build --deployment`)")
    check.add_argument("--usage", metavar="FILE|db", help="refuse removing or breaking what an operation of a "
                       "supported app version uses: a usage file (`contract usage --export`) or `db`")
    check.set_defaults(handler=_schema_check)
    contract = sub.add_parser("contract", help="the app's persisted documents")
    contract_sub = contract.add_subparsers(dest="contract_command", required=True)
    build = contract_sub.add_parser("build", help="write both persisted manifests from operations/")
    build.add_argument("--deployment", metavar="DIR", help="instead write DIR's manifests and schema snapshot: the "
                                                           "app's operations and every enabled plug-in's")
    build.set_defaults(handler=_contract_build)
    contract_sub.add_parser("cost", help="print each operation's cost against the budget").set_defaults(
        handler=_contract_cost)
    usage = contract_sub.add_parser("usage", help="which supported app versions use each field; what only "
                                                  "unsupported ones use (safe to remove)")
    usage.add_argument("--export", metavar="FILE", help="write the usage file for `schema check --usage FILE`")
    usage.add_argument("--from", dest="source", metavar="FILE", help="read a usage file instead of the database")
    usage.set_defaults(handler=_contract_usage)
    forward = sub.add_parser("forward", help="the forward queue's failing and dead jobs (list, retry, give up)")
    forward_sub = forward.add_subparsers(dest="forward_command", required=True)
    forward_sub.add_parser("list", help="jobs still owed that have failed, and jobs that ended undelivered")
    forward_sub.add_parser("retry", help="make a failing job due now").add_argument("job", type=int)
    give_up = forward_sub.add_parser("give-up", help="end a job still owed and tell the citizen")
    give_up.add_argument("job", type=int)
    give_up.add_argument("--reason", help="shown to the citizen after the vi/en explanation (at most 500 chars)")
    forward.set_defaults(handler=_forward)
    audit = sub.add_parser("audit", help="the privacy audit trail: verify its hash chain, export it for an auditor")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the chain; exit 1 naming the first broken row and why")
    export_audit = audit_sub.add_parser("export", help="every row as JSON lines, with its hashes")
    export_audit.add_argument("--output", metavar="FILE", help="default: standard output")
    audit.set_defaults(handler=_audit)
    from api.home_cli import add_parsers as home_parsers

    home_parsers(sub, _home)
    from api.flags_cli import add_parser as add_flags

    add_flags(sub, _flags)
    plugin = sub.add_parser("plugin", help="agency service plug-ins")
    plugin_sub = plugin.add_subparsers(dest="plugin_command", required=True)
    plugin_check = plugin_sub.add_parser("check", help="run the conformance kit against plug-ins (exit 1 on a failure)")
    plugin_check.add_argument("names", nargs="+", metavar="CODE_OR_PACKAGE",
                              help="service code(s) or package(s); `all` for every installed plug-in")
    plugin_check.add_argument("--only", action="append", metavar="CHECK", help="run only this check (repeatable)")
    plugin_check.set_defaults(handler=_plugin_check)
    apps = sub.add_parser("apps", help="app versions: the minimum served per platform, and the versions seen")
    apps_sub = apps.add_subparsers(dest="apps_command", required=True)
    minimum = apps_sub.add_parser("set-minimum", help="apps below VERSION on PLATFORM get APP_UPDATE_REQUIRED")
    minimum.add_argument("platform", help="android | ios | web")
    minimum.add_argument("version", help="MAJOR.MINOR.PATCH")
    minimum.add_argument("--store-url", metavar="URL", help="where the app sends the user (default: the "
                         "platform's SUPERAPP_APP_STORE_URL_<PLATFORM>)")
    apps_sub.add_parser("list", help="the minimum per platform and every app version seen, supported or not")
    apps.set_defaults(handler=_apps)
    from api.keys_cli import add_parsers

    add_parsers(sub, _verify, _keys)
    return parser


def configure_logging(level: str, log_format: str = "text") -> None:
    """The process's logging: one format (text, or one JSON object a line), the request id on every line of a
    request, and every record of every library redacted (core.log_redaction, core.log_format)."""
    from core.log_format import formatter, install_request_ids
    from core.log_redaction import install

    install()
    install_request_ids()
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, str(settings.server.log_format))
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
