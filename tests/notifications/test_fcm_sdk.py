"""The firebase-admin internals we rely on are there, and do what we set them for, with the pinned SDK."""

from __future__ import annotations

import pytest
from firebase_admin import _http_client

from core.dossier_status import DossierStatus
from core.settings import Settings
from notifications import fcm_sdk
from notifications.fcm import FcmSender, PushMessage, PushOutcome
from notifications.standins import FcmStandin
from notifications.templates import Subject


def test_every_private_name_exists_in_the_installed_sdk() -> None:
    assert fcm_sdk.missing_internals() == []


def test_a_missing_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(_http_client, "HttpxAsyncClient")
    assert fcm_sdk.missing_internals() == ["firebase_admin._http_client.HttpxAsyncClient"]


def test_a_renamed_client_parameter_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class Renamed:
        def __init__(self, credential: object = None, timeout: int = 120, retry: object = None) -> None: ...

    monkeypatch.setattr(_http_client, "HttpxAsyncClient", Renamed)
    assert fcm_sdk.missing_internals() == ["HttpxAsyncClient(retry_config=...)"]


@pytest.mark.parametrize("retries", [0, 2])
async def test_the_sdk_retries_a_500_exactly_as_configured(
    notify_settings: Settings, fcm: tuple[FcmStandin, str], retries: int,
) -> None:
    standin, _ = fcm
    token = f"fcm-sdk-retries-{retries}"
    standin.answer(token, "error500")
    sender = FcmSender(notify_settings.updated(notifications={"fcm_sdk_retries": retries}).notifications)
    try:
        subject = Subject(dossier_code="000.00.15.H29-261128-0001", procedure_name_vi="Đăng ký khai sinh",
                          procedure_name_en="Birth registration", status=DossierStatus.PROCESSING)
        [result] = await sender.send([PushMessage(token=token, locale="vi", dedupe_key="k", subject=subject)])
        attempts = standin.attempts_for(token)
    finally:
        await sender.aclose()
        standin.reset()
    assert result.outcome is PushOutcome.RETRY
    assert [a.status for a in attempts] == [500] * (1 + retries)
