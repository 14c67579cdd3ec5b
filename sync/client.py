"""The reference offline client: what the Android and iOS apps implement (docs/SYNC_PROTOCOL.md).

- Every user action becomes a queued intent with a UUID and the next gapless seq, in one local commit,
  before anything is sent; the local view is the server's records with the queue replayed on top.
- `sync()` pushes the queue (with `pullFrom`, so a reconnect is one round trip) and pulls until caught up.
  A queued mutation leaves the queue only when answered; a lost answer means resending, which the server
  answers DUPLICATE with the original result. OUT_OF_ORDER and RETRY stop the batch and keep the order.
- `baseVersion` is the version the server last gave this install (0 for a record created offline); after
  a restore of the server (OUT_OF_ORDER below our queue, reset CHECKPOINT_AHEAD) answered work the server
  lost is sent again and the replacement sync's records replace ours whatever their version.
- A page and its checkpoint are stored in one local transaction. A 401, a cut connection or a truncated
  body raises before anything local changes: the queue is never emptied by a failure.
"""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sync.local_store import LocalStore
from sync.schema_versions import CURRENT
from sync.wire import DIRECTORY_PULL_DOCUMENT, PULL_FIELD, PUSH_DOCUMENT

FINAL = {"APPLIED", "MERGED", "DUPLICATE", "CONFLICT", "REJECTED"}


class SyncInterrupted(Exception):
    """The link failed or the answer was cut short; nothing local changed. Try again later."""


class AuthExpired(SyncInterrupted):
    """401: the app must sign in again. The queue and local data are kept."""


class SyncRefused(Exception):
    """The server refused the whole call with a typed error (e.g. SYNC_CLIENT_NOT_OWNED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class SyncReport:
    round_trips: int = 0
    pages: int = 0
    upserts: int = 0
    tombstones: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)


class OfflineClient:
    def __init__(self, path: Path | str, *, base_url: str, token: str, schema_version: int = CURRENT,
                 limit: int | None = None, max_bytes: int | None = None, timeout: float = 10.0,
                 compress_above: int = 1024, clock: Any = None) -> None:
        self.store = LocalStore(path)
        self.base_url, self.token, self.schema_version = base_url, token, schema_version
        self.limit, self.max_bytes, self.timeout, self.compress_above = limit, max_bytes, timeout, compress_above
        self.before_page_commit: Any = None  # test hook: called inside the page's local transaction
        # The calling app (Apollo client awareness, api/client_app.py): feature flags depend on it.
        self.app_headers: dict[str, str] = {}
        self.clock = clock or (lambda: datetime.now(UTC))  # the device clock: audit only, may be wrong
        if self.store.meta("client_id") is None:
            with self.store.transaction() as tx:
                LocalStore.set_meta(tx, "client_id", str(uuid.uuid4()))

    def directory(self, province: str | None = None) -> dict[str, Any] | None:
        """The home screen from local data only (no signal needed): the stored directory's tiles that show in
        `province` (all of them without one), with their categories; None before the first sync."""
        raw = self.store.meta("directory")
        if raw is None:
            return None
        stored: dict[str, Any] = json.loads(raw)
        tiles = [t for t in stored["tiles"] if province is None or not t["provinces"] or province in t["provinces"]]
        counts: dict[str, int] = {}
        for tile in tiles:
            counts[tile["category"]] = counts.get(tile["category"], 0) + 1
        return {"version": stored["version"], "tiles": tiles,
                "categories": [{**c, "tileCount": counts[c["code"]]} for c in stored["categories"]
                               if c["code"] in counts]}

    @property
    def client_id(self) -> str:
        value = self.store.meta("client_id")
        assert value is not None
        return value

    @property
    def checkpoint(self) -> str | None:
        return self.store.meta("checkpoint")

    def close(self) -> None:
        self.store.close()

    # ---- user actions (offline) -------------------------------------------------------------------

    def enqueue(self, intent: str, record_id: str | None, args: dict[str, Any] | None = None,
                base_version: int | None = None) -> int:
        with self.store.transaction() as tx:
            row = tx.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
            seq = int(row[0]) if row else 1
            tx.execute("INSERT INTO queue(seq, cmid, intent, record_id, base_version, args, client_time) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (seq, str(uuid.uuid4()), intent, record_id, base_version,
                        json.dumps(args or {}, ensure_ascii=False), self.clock().isoformat()))
            LocalStore.set_meta(tx, "next_seq", str(seq + 1))
        return seq

    def create_draft(self, procedure_code: str, fields: dict[str, Any]) -> str:
        draft_id = str(uuid.uuid4())
        self.enqueue("draft.create", draft_id, {"procedureCode": procedure_code, "fields": fields}, 0)
        return draft_id

    def edit_draft(self, draft_id: str, fields: dict[str, Any]) -> int:
        return self.enqueue("draft.update", draft_id, {"fields": fields}, self._base("draft", draft_id))

    def delete_draft(self, draft_id: str) -> int:
        return self.enqueue("draft.delete", draft_id, {}, self._base("draft", draft_id))

    def submit_draft(self, draft_id: str) -> int:
        return self.enqueue("draft.submit", draft_id, {}, self._base("draft", draft_id))

    def _base(self, record_type: str, record_id: str) -> int:
        """The version of the record as the server last gave it to us (pull or push answer), 0 if it never
        did (created offline). Our own queued edits do not change it: the server knows them as ours."""
        return self.store.version(record_type, record_id)

    def draft(self, draft_id: str) -> dict[str, Any] | None:
        """What the app shows: the server's draft with the queued edits replayed on top."""
        view = self.store.stored("draft", draft_id)
        for m in self.store.pending():
            if m["recordId"] != draft_id:
                continue
            if m["intent"] == "draft.create":
                view = {**(view or {"id": draft_id, "status": "open", "history": []}),
                        "procedureCode": m["args"].get("procedureCode"),
                        "fields": {**(view or {}).get("fields", {}), **m["args"].get("fields", {})}}
            elif m["intent"] == "draft.update" and view is not None:
                merged = {**view.get("fields", {}), **m["args"].get("fields", {})}
                view = {**view, "fields": {k: v for k, v in merged.items() if v is not None}}
            elif m["intent"] == "draft.delete":
                view = None
            elif m["intent"] == "draft.submit" and view is not None:
                view = {**view, "status": "submitting"}
        return view

    # ---- the protocol -----------------------------------------------------------------------------

    async def sync(self, *, transport: httpx.AsyncBaseTransport | None = None,
                   max_round_trips: int = 100) -> SyncReport:
        report = SyncReport()
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout, transport=transport,
                                     headers={"Accept-Encoding": "gzip"}) as http:
            for _ in range(max_round_trips):
                pending = self.store.pending(limit=100)
                if pending:
                    payload = await self._call(http, PUSH_DOCUMENT, {"input": {
                        "clientId": self.client_id, "schemaVersion": self.schema_version, "mutations": pending,
                        "pullFrom": self.checkpoint or "", "pullLimit": self.limit,
                        "pullMaxBytes": self.max_bytes}}, report)
                    stop = self._answers(payload["syncPush"]["results"], pending, report)
                    page = payload["syncPush"]["page"]
                else:
                    stop = False
                    payload = await self._call(http, DIRECTORY_PULL_DOCUMENT, {
                        "checkpoint": self.checkpoint, "schemaVersion": self.schema_version, "limit": self.limit,
                        "maxBytes": self.max_bytes, "directoryVersion": self.store.meta("directory_version")},
                        report, extra_headers=self.app_headers)
                    page = payload[PULL_FIELD]
                if page is not None:
                    self._apply(page, report)
                if not stop and not self.store.pending(limit=1) and (page is None or not page["hasMore"]):
                    return report
        return report

    async def _call(self, http: httpx.AsyncClient, document: str, variables: dict[str, Any],
                    report: SyncReport, extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": document, "variables": variables}, ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   **(extra_headers or {})}
        if len(body) > self.compress_above:
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        report.round_trips += 1
        try:
            response = await http.post("/graphql", content=body, headers=headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:  # cut link, truncated body, broken gzip
            raise SyncInterrupted(type(error).__name__) from error
        if response.status_code == 401:
            raise AuthExpired("401")
        if response.status_code != 200 or not isinstance(answer, dict):
            raise SyncInterrupted(f"HTTP {response.status_code}")
        errors = answer.get("errors") or []
        if errors:
            extensions = errors[0].get("extensions") or {}
            code = extensions.get("code", "")
            if code == "UNAUTHENTICATED":
                raise AuthExpired(code)
            if code in ("INTERNAL_ERROR", "") or extensions.get("retryable") is True:  # e.g. SERVICE_UNAVAILABLE
                raise SyncInterrupted(code)
            raise SyncRefused(code, errors[0].get("message", ""))
        data: dict[str, Any] = answer["data"]
        return data

    def _answers(self, results: list[dict[str, Any]], sent: list[dict[str, Any]], report: SyncReport) -> bool:
        """Store answers and drop answered mutations, in one local transaction. True: stop this round."""
        stop = False
        with self.store.transaction() as tx:
            for result in results:
                status = result["status"]
                report.answers[status] = report.answers.get(status, 0) + 1
                if status == "OUT_OF_ORDER":
                    self._resume_from(tx, int(result["expectedSeq"]))
                    return True
                if status not in FINAL:
                    return True  # RETRY: keep it and everything after it, in order
                mutation = next(m for m in sent if m["seq"] == result["seq"])
                tx.execute("DELETE FROM queue WHERE seq = ?", (result["seq"],))
                tx.execute("INSERT OR REPLACE INTO outcome(seq, cmid, intent, record_id, status, answer, mutation) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (result["seq"], result["clientMutationId"], mutation["intent"], mutation["recordId"],
                            status, json.dumps(result, ensure_ascii=False),
                            json.dumps(mutation, ensure_ascii=False)))
                if result.get("recordType") and result.get("version") and status != "DUPLICATE":
                    record = result.get("record")
                    if record is not None or mutation["intent"] == "draft.delete":
                        LocalStore.put(tx, result["recordType"], str(mutation["recordId"]), result["version"],
                                       record)
        return stop

    def _resume_from(self, tx: Any, expected: int) -> None:
        """OUT_OF_ORDER: the server's next seq is `expected`, below our queue's first, so it lost mutations
        it had acknowledged (restored from a backup). Put the answered ones we keep from `expected` on back
        at the head of the queue (same clientMutationId, same order), then number the queue gaplessly from
        `expected`. The server never saw these seqs in its current state, so nothing is applied twice."""
        rows = tx.execute("SELECT seq FROM queue ORDER BY seq LIMIT 1").fetchall()
        if not rows or rows[0][0] <= expected:
            return
        lost = [json.loads(m) for (m,) in tx.execute(
            "SELECT mutation FROM outcome WHERE seq >= ? AND seq < ? AND mutation IS NOT NULL ORDER BY seq",
            (expected, rows[0][0]))]
        queue = lost + self.store.pending(limit=1_000_000)
        tx.execute("DELETE FROM outcome WHERE seq >= ?", (expected,))
        tx.execute("DELETE FROM queue")
        for seq, m in enumerate(queue, start=expected):
            tx.execute("INSERT INTO queue(seq, cmid, intent, record_id, base_version, args, client_time) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (seq, m["clientMutationId"], m["intent"], m["recordId"], m["baseVersion"],
                        json.dumps(m["args"], ensure_ascii=False), m["clientTime"]))
        LocalStore.set_meta(tx, "next_seq", str(expected + len(queue)))

    def _apply(self, page: dict[str, Any], report: SyncReport) -> None:
        """One page, its checkpoint and the replacement-sync bookkeeping: one local transaction."""
        with self.store.transaction() as tx:
            if page.get("reset"):
                report.resets.append(page["reset"])
                tx.execute("DELETE FROM reset_seen")
                LocalStore.set_meta(tx, "resetting", "1")
            resetting = self.store.meta("resetting") == "1" or bool(page.get("reset"))
            for change in page["changes"]:
                data = None if change["deleted"] else change["data"]
                LocalStore.put(tx, change["type"], change["id"], change["version"], data, force=resetting)
                if resetting:
                    tx.execute("INSERT OR IGNORE INTO reset_seen(type, id) VALUES (?, ?)",
                               (change["type"], change["id"]))
                report.tombstones += int(data is None)
                report.upserts += int(data is not None)
            if self.before_page_commit is not None:
                self.before_page_commit()
            if page.get("directory") is not None:  # the home screen's directory, for opening with no signal
                LocalStore.set_meta(tx, "directory", json.dumps(page["directory"], ensure_ascii=False))
                LocalStore.set_meta(tx, "directory_version", page["directory"]["version"])
            if resetting and not page["hasMore"]:
                # Replacement sync complete: what the server no longer has goes (never the queue).
                tx.execute("DELETE FROM record WHERE (type, id) NOT IN (SELECT type, id FROM reset_seen)")
                tx.execute("DELETE FROM reset_seen")
                LocalStore.set_meta(tx, "resetting", None)
            LocalStore.set_meta(tx, "checkpoint", page["checkpoint"])
        report.pages += 1
