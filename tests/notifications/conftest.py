"""The FCM and SMS stand-ins as real loopback servers, and dispatchers pointed at them.

firebase-admin really sends over HTTP to the FCM stand-in (its endpoint is set from
`SUPERAPP_FCM_ENDPOINT`, as in production); nothing of ours is patched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from core.db import Database
from core.settings import Settings
from notifications.dispatcher import Dispatcher
from notifications.standins import FcmStandin, SmsStandin
from tests.support import serve


@pytest.fixture(scope="session")
def fcm() -> Iterator[tuple[FcmStandin, str]]:
    standin = FcmStandin(project="superapp-test")
    with serve(standin.app()) as url:
        yield standin, url


@pytest.fixture(scope="session")
def sms() -> Iterator[tuple[SmsStandin, str]]:
    standin = SmsStandin()
    with serve(standin.app()) as url:
        yield standin, url


@pytest.fixture(scope="session")
def notify_settings(settings: Settings, fcm: tuple[FcmStandin, str], sms: tuple[SmsStandin, str]) -> Settings:
    return settings.updated(notifications={
        "fcm_endpoint": fcm[1], "fcm_project_id": "superapp-test", "sms_gateway_url": f"{sms[1]}/sms",
        "notify_min_backoff_seconds": 0.05, "notify_max_backoff_seconds": 0.2, "worker_lease_seconds": 5.0,
        "fcm_http_timeout_seconds": 5.0,
    })


DispatcherFactory = Callable[..., Dispatcher]


@pytest.fixture
async def make_dispatcher(notify_settings: Settings) -> AsyncIterator[DispatcherFactory]:
    """Dispatchers with their own database connection (as a separate worker would have)."""
    made: list[tuple[Dispatcher, Database]] = []

    def make(**overrides: Any) -> Dispatcher:
        shared = {name: overrides.pop(name) for name in list(overrides) if name in Settings.model_fields}
        settings = notify_settings.updated(notifications=overrides, **shared)
        database = Database.from_url(settings.database_url)
        dispatcher = Dispatcher(db=database, settings=settings)
        made.append((dispatcher, database))
        return dispatcher

    yield make
    for dispatcher, database in made:
        await dispatcher.aclose()
        await database.dispose()
