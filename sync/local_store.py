"""The reference client's local SQLite store: records, the checkpoint, the mutation queue, the answers.

Everything a page changes (records, tombstones, checkpoint, replacement-sync bookkeeping) is written in one
SQLite transaction, so an app killed mid-apply finds either the old state or the new one, never a mix,
and never a checkpoint ahead of the data it stands for. Answered mutations are kept whole in `outcome`, so
work the server loses in a restore from a backup can be sent again (docs/SYNC_PROTOCOL.md, section 4).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS record (type TEXT, id TEXT, version INTEGER, deleted INTEGER, data TEXT,
                                   PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, cmid TEXT UNIQUE, intent TEXT, record_id TEXT,
                                  base_version INTEGER, args TEXT, client_time TEXT);
CREATE TABLE IF NOT EXISTS outcome (seq INTEGER PRIMARY KEY, cmid TEXT, intent TEXT, record_id TEXT, status TEXT,
                                    answer TEXT, mutation TEXT);
CREATE TABLE IF NOT EXISTS reset_seen (type TEXT, id TEXT, PRIMARY KEY (type, id));
"""


class LocalStore:
    def __init__(self, path: Path | str) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(outcome)")}
        if "mutation" not in columns:  # a store made by an earlier version of this client
            self.db.execute("ALTER TABLE outcome ADD COLUMN mutation TEXT")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    @staticmethod
    def set_meta(tx: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            tx.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            tx.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    def version(self, record_type: str, record_id: str) -> int:
        row = self.db.execute("SELECT version FROM record WHERE type = ? AND id = ?",
                              (record_type, record_id)).fetchone()
        return int(row[0]) if row else 0

    def stored(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM record WHERE type = ? AND id = ? AND deleted = 0",
                              (record_type, record_id)).fetchone()
        return json.loads(row[0]) if row else None

    def live(self) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        """Every record the server has given us and not deleted: (type, id) -> (version, data)."""
        rows = self.db.execute("SELECT type, id, version, data FROM record WHERE deleted = 0")
        return {(t, i): (v, json.loads(d)) for t, i, v, d in rows}

    @staticmethod
    def put(tx: sqlite3.Connection, record_type: str, record_id: str, version: int, data: dict[str, Any] | None,
            *, force: bool = False) -> bool:
        """Store a server record (or tombstone) unless we already hold a newer one. Returns whether it did."""
        row = tx.execute("SELECT version FROM record WHERE type = ? AND id = ?", (record_type, record_id)).fetchone()
        if row is not None and row[0] > version and not force:
            return False
        tx.execute("INSERT INTO record(type, id, version, deleted, data) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT(type, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, "
                   "data = excluded.data",
                   (record_type, record_id, version, int(data is None), json.dumps(data, ensure_ascii=False)))
        return True

    def pending(self, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT seq, cmid, intent, record_id, base_version, args, client_time FROM queue "
                               "ORDER BY seq LIMIT ?", (limit,))
        return [{"seq": s, "clientMutationId": c, "intent": i, "recordId": r, "baseVersion": b,
                 "args": json.loads(a), "clientTime": t} for s, c, i, r, b, a, t in rows]

    def outcomes(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT seq, cmid, intent, record_id, status, answer FROM outcome ORDER BY seq")
        return [{"seq": s, "clientMutationId": c, "intent": i, "recordId": r, "status": st, "answer": json.loads(a)}
                for s, c, i, r, st, a in rows]
