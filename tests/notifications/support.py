"""Helpers of the notification tests: devices over GraphQL, forwarded dossiers, agency status events."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlmodel import col, select, update

from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.devices import register_device
from core.dossier_status import DossierStatus
from core.dossiers import Submission, change_status, submit_dossier
from core.models import Citizen as CitizenRow
from core.models import Dossier, Notification, OutboxMessage
from core.settings import Settings
from notifications.dispatcher import Dispatcher
from services.signing import signed_headers
from tests.core.factories import PROCEDURE_CODE, create_citizen, sample_form
from tests.support import SUBMIT, Citizen, RunningSandbox, gql, sandbox_secret, until_received

REGISTER = """mutation($t: String!, $p: String!, $l: String!) { registerDevice(input: {token: $t, platform: $p,
  locale: $l}) { device { platform locale } errors { code field } } }"""
FORM = {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}


def new_token() -> str:
    return "fcm-" + secrets.token_urlsafe(24)


async def register(client: httpx.AsyncClient, who: Citizen, token: str, *, locale: str = "vi",
                   platform: str = "android") -> dict[str, Any]:
    body = await gql(client, REGISTER, {"t": token, "p": platform, "l": locale}, who=who)
    payload: dict[str, Any] = body["data"]["registerDevice"]
    return payload


async def forwarded_dossier(client: httpx.AsyncClient, who: Citizen, sandbox: RunningSandbox) -> str:
    """A residence dossier the agency has received, so its status events are accepted."""
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": FORM}, who=who)
    code = str(body["data"]["submitDossier"]["dossier"]["code"])
    await until_received(sandbox, code)
    return code


async def agency_event(client: httpx.AsyncClient, code: str, status: str, *, note_vi: str | None = None) -> None:
    national = str(DossierStatus(status).national_code)  # the residence agency speaks national codes
    event: dict[str, Any] = {"event_id": secrets.token_hex(8), "dossier_ref": code, "status": national,
                             "occurred_at": "2026-11-20T08:00:00+07:00"}
    if note_vi is not None:
        event["note_vi"] = note_vi
    body = json.dumps(event).encode()
    headers = signed_headers(sandbox_secret("residence"), str(int(time.time())), body)
    response = await client.post("/agencies/residence/events", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def citizen_id(db: Database, who: Citizen) -> int:
    async with db.read() as session:
        row = (await session.execute(select(CitizenRow).where(CitizenRow.id_number == who.id_number))).scalars().one()
    assert row.id is not None
    return row.id


async def set_phone(db: Database, who: Citizen, phone: str) -> None:
    async with db.write() as session:
        await session.execute(update(CitizenRow).where(col(CitizenRow.id_number) == who.id_number).values(phone=phone))


async def notifications_of(db: Database, who: Citizen) -> list[Notification]:
    cid = await citizen_id(db, who)
    async with db.read() as session:
        query = select(Notification).where(Notification.citizen_id == cid).order_by(col(Notification.id))
        return list((await session.execute(query)).scalars())


async def outbox_of(db: Database, notification_id: int) -> list[OutboxMessage]:
    async with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.notification_id == notification_id)
        return list((await session.execute(query.order_by(col(OutboxMessage.id)))).scalars())


async def drain_until(dispatcher: Dispatcher, done: Callable[[], Any], seconds: float = 15) -> None:
    """Run the dispatcher's batches until `done()` (sync or async) is true."""
    async with asyncio.timeout(seconds):
        while True:
            result = done()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if await dispatcher.run_once() == 0:
                await asyncio.sleep(0.05)


async def new_dossier(db: Database, calendar: HolidayCalendar, owner: CitizenRow) -> Dossier:
    async with db.write() as session:
        return await submit_dossier(session, citizen=owner, now=utc_now(), calendar=calendar,
                                    tz_name=Settings().timezone,
                                    submission=Submission(procedure_code=PROCEDURE_CODE, form_data=sample_form()))


async def owed_pushes(db: Database, calendar: HolidayCalendar, *, devices: int, events: int,
                      prefix: str) -> set[tuple[str, str]]:
    """A citizen with `devices` phones and one dossier moved `events` times: devices x events pushes owed.

    Returns the (token, dedupeKey) pairs the phones must end up with.
    """
    owner = await create_citizen(db, phone=None)
    assert owner.id is not None
    dossier = await new_dossier(db, calendar, owner)
    tokens = [f"{prefix}-{owner.id}-{n}" for n in range(devices)]
    async with db.write() as session:
        ids = [(await register_device(session, citizen_id=owner.id, token=t, platform="android", locale="vi",
                                      now=utc_now())).id for t in tokens]
        row = await session.get(Dossier, dossier.id)
        assert row is not None
        path = [DossierStatus.ACCEPTED, DossierStatus.PROCESSING]
        while len(path) < events:
            path += [DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.PROCESSING]
        owed = set()
        for status in path[:events]:
            event = await change_status(session, dossier=row, target=status, source="agency", occurred_at=utc_now())
            owed |= {(t, f"{event.id}:{i}") for t, i in zip(tokens, ids, strict=True)}
    return owed
