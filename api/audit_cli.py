"""`superapp audit verify|export`: the privacy audit trail for operators and auditors.

`verify` walks the whole chain in seq order (core/audit.py) and exits 0 when it holds, 1 with the first
broken row's position and the reason otherwise. `export` writes every row as one JSON line (the hashed
content plus `hash`), so a third party can re-check the chain with the algorithm in docs/ARCHITECTURE.md
without access to the database. Rows name citizens by their internal id, never by ID number or name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from core import audit
from core.db import Database
from core.settings import Settings

Print = Callable[[str], None]


async def _verify(db: Database, out: Print, err: Print) -> int:
    async with db.read() as session:
        count, broken = await audit.verify(session)
    if broken is None:
        out(f"audit trail intact: {count} row(s)")
        return 0
    seq = f"seq {broken.seq}" if broken.seq is not None else "end of the table"
    err(f"audit trail BROKEN at row {broken.position} ({seq}): {broken.reason}")
    return 1


async def _export(db: Database, target: TextIO) -> int:
    count = 0
    async with db.read() as session:
        async for row in audit.rows_in_order(session):
            target.write(json.dumps(audit.exported(row), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def run(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    async def main(target: TextIO) -> int:
        db = Database.from_url(settings.database_url)
        try:
            if args.audit_command == "verify":
                return await _verify(db, out, err)
            err(f"{await _export(db, target)} audit row(s) exported")
            return 0
        finally:
            await db.dispose()

    if args.audit_command == "export" and args.output:
        with Path(args.output).open("w", encoding="utf-8") as target:
            return asyncio.run(main(target))
    return asyncio.run(main(sys.stdout))
