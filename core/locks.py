"""The one global order in which a write transaction takes row locks, checked as they are taken.

Two transactions that take the same locks in different orders can deadlock on PostgreSQL (an interconnected
submission numbered its parts after stamping the parent in the citizen's sync scope, while a plain
submission held the residence agency's sequence and waited for that scope). Every lock-taking function of
core names its lock here before its statement; a lock of an earlier rank asked for after one of a later
rank is a programming error (`LockOrderError`), found by the tests on SQLite as well as PostgreSQL.

The order (docs/ARCHITECTURE.md, "Lock order"):
1. `DOSSIER`: dossier rows (`FOR UPDATE`); a part before its parent.
2. `SUBMISSION_CAP`: the citizen's `quota_bucket` row counting the day's submissions
   (`core.quota.count_submission`), taken after every check that can refuse the submission.
3. `DAILY_SEQUENCE`: `dossier_sequence` rows, all of a transaction's at once in ascending (agency, day)
   order (`core.dossier_codes.next_dossier_codes`).
4. `SYNC_SCOPE`: `sync_scope` rows (`core.change_log.next_seq`), held until commit.
5. `AUDIT`: the audit trail's one head row (`core.audit.append`), last of all: every personal-data change
   chains its audit row after its other locks, so the nation-wide head is held only from there to commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_HELD = "superapp_locks"


class Lock(IntEnum):
    DOSSIER = 1
    SUBMISSION_CAP = 2
    DAILY_SEQUENCE = 3
    SYNC_SCOPE = 4
    AUDIT = 5


class LockOrderError(RuntimeError):
    """A lock asked for out of the global order: a deadlock waiting for the right concurrency."""


def take(session: AsyncSession, rank: Lock, keys: Iterable[str]) -> list[str]:
    """Note that the transaction is about to lock `keys` of `rank`; returns the keys in the order to lock them.

    Keys already held pass (re-locking a held row never waits); a new key of a rank below one already
    held raises.
    """
    held: dict[Lock, set[str]] = session.info.setdefault(_HELD, {})
    ordered = sorted(set(keys))
    new = [k for k in ordered if k not in held.get(rank, set())]
    later = [r for r in held if r > rank]
    if new and later:
        raise LockOrderError(f"{rank.name} lock asked for after a {max(later).name} lock in one transaction")
    held.setdefault(rank, set()).update(new)
    return ordered


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """Locks go with the transaction (a savepoint's end releases nothing we track)."""
    if transaction.parent is None:
        session.info.pop(_HELD, None)
