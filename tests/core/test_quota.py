"""A flood past its quota costs no database round trip: the shared store remembers a refusal until it can
no longer hold, and a citizen at the day's submission cap is refused without a write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from core.db import Database
from core.errors import DomainError, ErrorCode
from core.quota import DatabaseQuotaStore, Limit, count_submission, day_end


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_refusal_is_answered_from_memory_until_it_can_no_longer_hold(db: Database) -> None:
    clock = [1_000_000.0]
    store = DatabaseQuotaStore(db, clock=lambda: clock[0])
    key, limit = f"citizen:test-{uuid.uuid4().hex}", Limit(amount=10, period=10.0)
    assert (await store.charge(key, 10, limit)).allowed
    refused = await store.charge(key, 5, limit)
    assert not refused.allowed
    assert refused.retry_after == 5.0
    with statements(db) as seen:
        again = await store.charge(key, 7, limit)  # as costly or more: refused from memory
        assert not again.allowed
        assert seen == []
        await store.charge(key, 1, limit)  # cheaper: the table decides
        assert seen != []
    clock[0] += 5.0
    assert (await store.charge(key, 5, limit)).allowed  # the bucket refilled: the memory does not refuse


async def test_a_citizen_at_the_cap_is_refused_without_a_write(db: Database) -> None:
    citizen_id, today = 900_000_000 + uuid.uuid4().int % 1_000_000, datetime.now(UTC).date()

    async def submit(cap: int) -> None:
        async def work(session: Any) -> None:
            await count_submission(session, citizen_id=citizen_id, day=today, cap=cap,
                                   expires_at=day_end(today, "Asia/Ho_Chi_Minh"))
        await db.transaction(work)

    await submit(1)
    with pytest.raises(DomainError) as over:
        await submit(1)
    assert over.value.code is ErrorCode.DAILY_SUBMISSION_LIMIT
    with statements(db) as seen:
        with pytest.raises(DomainError) as remembered:
            await submit(1)
        assert remembered.value.code is ErrorCode.DAILY_SUBMISSION_LIMIT
        assert not [s for s in seen if "quota_bucket" in s]
        await submit(5)  # a higher cap (another deployment's settings) still asks the table
        assert [s for s in seen if "quota_bucket" in s]
