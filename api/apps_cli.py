"""`superapp apps set-minimum|list` and `superapp contract usage`: the operators' side of app versions.

`set-minimum` stores the oldest version served on a platform (with its store link) in the database: every
server process enforces it within `SUPERAPP_APP_POLICY_CACHE_SECONDS`, no deploy. `list` shows what is
enforced and the app versions seen, each marked supported or not. `contract usage` maps the tracked operations
of each version onto the schema's fields: which supported versions use each field and each deprecated one, and
which fields only unsupported versions use (safe to remove); `--export FILE` writes the usage file the
breaking-change guard reads offline (`superapp schema check --usage FILE`; format in mobile_contract/usage.py).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import col, select

from core.app_versions import PLATFORMS, Minimum, effective, parse_version, set_minimum, store_url, supported
from core.app_versions import valid_store_url as _valid_url
from core.clock import utc_now
from core.db import Database
from core.models import AppOperationUsage
from core.settings import Settings
from mobile_contract.usage import UsedOperation

if TYPE_CHECKING:
    from api.graphql.schema import Schema

Print = Callable[[str], None]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def read_usage(settings: Settings, db: Database, documents: dict[str, str]) -> tuple[
        dict[str, Minimum], list[UsedOperation]]:
    """The enforced minimums and every tracked operation, each marked supported or not and with its text
    (from `documents`: hash -> text, every form a client may send) when the manifests still hold it."""
    async with db.read() as session:
        minimums = await effective(session, settings.apps)
        rows = list((await session.execute(select(AppOperationUsage).order_by(
            col(AppOperationUsage.app_name), col(AppOperationUsage.app_version),
            col(AppOperationUsage.operation_name)))).scalars())
    operations = []
    for row in rows:
        version = parse_version(row.app_version)
        operations.append(UsedOperation(
            app_name=row.app_name, platform=row.platform, app_version=row.app_version,
            supported=version is not None and supported(version, minimums.get(row.platform)),
            operation_hash=row.operation_hash, operation_name=row.operation_name, count=int(row.count),
            first_seen=_iso(row.first_seen), last_seen=_iso(row.last_seen),
            document=documents.get(row.operation_hash)))
    return minimums, operations


def trusted_documents(settings: Settings) -> tuple[Schema, dict[str, str]]:
    """The schema `serve` would serve and its trusted documents under every hash a client may send."""
    from api.app import trusted_documents as served_documents
    from api.graphql.persisted import trusted_index
    from api.graphql.schema import build_schema
    from services.registry import load_registry

    registry = load_registry(settings)
    schema = build_schema(settings, registry)
    return schema, trusted_index(served_documents(settings, registry, schema))


def database_usage(settings: Settings) -> tuple[Schema, dict[str, Minimum], list[UsedOperation]]:
    schema, documents = trusted_documents(settings)

    async def go() -> tuple[dict[str, Minimum], list[UsedOperation]]:
        db = Database.from_url(settings.database_url)
        try:
            return await read_usage(settings, db, documents)
        finally:
            await db.dispose()

    minimums, operations = asyncio.run(go())
    return schema, minimums, operations


def _set_minimum(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    platform = args.platform
    version = parse_version(args.version)
    if platform not in PLATFORMS:
        err(f"unknown platform {platform!r}: one of {', '.join(PLATFORMS)}")
        return 2
    if version is None:
        err(f"not a version {args.version!r}: MAJOR.MINOR.PATCH, e.g. 2.4.0")
        return 2
    url = args.store_url or store_url(settings.apps, platform)
    if not _valid_url(url):
        err(f"not a store link {url!r}: an http(s) URL of at most 500 characters")
        return 2

    async def go() -> None:
        db = Database.from_url(settings.database_url)
        try:
            await db.transaction(lambda session: set_minimum(session, platform=platform, version=version,
                                                             store_url=url))
        finally:
            await db.dispose()

    asyncio.run(go())
    out(f"{platform}: apps below {args.version} now get APP_UPDATE_REQUIRED with {url} (every server within "
        f"{settings.apps.policy_cache_seconds:g} s)")
    return 0


def _list(settings: Settings, out: Print) -> int:
    async def go() -> tuple[dict[str, Minimum], list[UsedOperation]]:
        db = Database.from_url(settings.database_url)
        try:
            return await read_usage(settings, db, {})
        finally:
            await db.dispose()

    minimums, operations = asyncio.run(go())
    out(f"{'platform':<9}  {'minimum':<12}  {'set by':<9}  store link")
    for platform in PLATFORMS:
        minimum = minimums.get(platform)
        out(f"{platform:<9}  {minimum.text if minimum else '-':<12}  {minimum.source if minimum else '-':<9}  "
            f"{minimum.store_url if minimum else store_url(settings.apps, platform)}")
    versions: dict[tuple[str, str], list[UsedOperation]] = {}
    for operation in operations:
        versions.setdefault((operation.app_name, operation.app_version), []).append(operation)
    out("")
    out(f"{'app':<28}  {'version':<12}  {'supported':<9}  {'operations':>10}  {'requests':>10}  last seen (UTC)")
    for (name, version), ops in sorted(versions.items(), key=lambda item: (item[0][0], parse_version(item[0][1])
                                                                          or (0, 0, 0))):
        out(f"{name:<28}  {version:<12}  {'yes' if ops[0].supported else 'no':<9}  {len(ops):>10}  "
            f"{sum(o.count for o in ops):>10}  {max(o.last_seen for o in ops)[:19]}")
    out(f"{len(versions)} app version(s) seen")
    return 0


def run(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    if args.apps_command == "set-minimum":
        return _set_minimum(settings, args, out, err)
    return _list(settings, out)


def usage_report(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    """`superapp contract usage [--from FILE] [--export FILE]`."""
    from mobile_contract import usage
    from mobile_contract.compatibility import deprecations

    if args.source:
        schema, _ = trusted_documents(settings)
        minimums: dict[str, Minimum] = {}
        try:
            operations = usage.load(Path(args.source))
        except (OSError, ValueError) as error:
            err(str(error))
            return 2
    else:
        schema, minimums, operations = database_usage(settings)
    graphql_schema = schema._schema
    if args.export:
        usage.export(Path(args.export), generated_at=utc_now().isoformat(), operations=operations,
                     minimums={p: {"minimumVersion": m.text, "storeUrl": m.store_url} for p, m in minimums.items()})
        out(f"{len(operations)} tracked operation(s) written to {args.export}")
        return 0
    by_field = usage.users(graphql_schema, operations)
    deprecated = deprecations(graphql_schema)
    since = min((o.first_seen for o in operations), default=None)
    # "No tracked operation uses it" means something only once every supported version had time to be seen.
    out(f"{len(operations)} tracked operation(s) of {len({(o.app_name, o.app_version) for o in operations})} app "
        f"version(s), first seen {since[:19] if since else 'never'} (UTC)")
    out("Fields used by tracked operations (supported app versions that use them):")
    for coordinate in sorted(by_field):
        ops = by_field[coordinate]
        keep = sorted({o.who for o in ops if o.supported})
        mark = " [deprecated]" if coordinate in deprecated else ""
        out(f"  {coordinate}{mark}: {', '.join(keep) if keep else 'none (only unsupported versions)'}")
    out("Deprecated fields:")
    for coordinate in sorted(deprecated):
        ops = by_field.get(coordinate, [])
        keep = sorted({o.label for o in ops if o.supported})
        verdict = (f"KEEP, used by supported {', '.join(keep)}" if keep else
                   "safe to remove (used only by unsupported versions)" if ops else
                   "safe to remove (no tracked operation uses it)")
        out(f"  {coordinate}: {verdict}")
    only_old = sorted(c for c, ops in by_field.items() if not any(o.supported for o in ops))
    out("Fields used only by unsupported app versions (safe to remove once deprecated):")
    for coordinate in only_old:
        out(f"  {coordinate}: {', '.join(sorted({o.who for o in by_field[coordinate]}))}")
    if not only_old:
        out("  none")
    unknown = [o for o in operations if o.document is None]
    for operation in unknown:
        out(f"warning: {operation.label} sent hash {operation.operation_hash}, which no manifest holds")
    return 0
