"""Push through the real firebase-admin SDK (`messaging.send_each_async`, at most 500 per call).

`SUPERAPP_FCM_ENDPOINT` points the SDK at the loopback stand-in in development and tests (Google in
production), and the SDK's own retries of 500/503 are replaced by `SUPERAPP_FCM_SDK_RETRIES` (0 by default):
the outbox already retries with backoff, jitter and Retry-After, and nested retries would hold a batch for
seconds. Both need SDK internals, which only `notifications/fcm_sdk.py` touches.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging
from google.auth.credentials import AnonymousCredentials

from core.settings import NotificationSettings
from notifications import fcm_sdk
from notifications.templates import Subject, push_text

MAX_BATCH = 500


class PushOutcome(StrEnum):
    SENT = "sent"
    DROP_TOKEN = "drop_token"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class PushMessage:
    token: str
    locale: str
    dedupe_key: str
    subject: Subject


@dataclass(frozen=True)
class PushResult:
    outcome: PushOutcome
    error: str | None = None
    retry_after: float | None = None


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    response = error.http_response
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def classify(error: Exception | None) -> PushResult:
    """FCM's answer for one message, as what the outbox should do with it."""
    if error is None:
        return PushResult(PushOutcome.SENT)
    code = type(error).__name__
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return PushResult(PushOutcome.DROP_TOKEN, code)
    if isinstance(error, exceptions.InvalidArgumentError):
        token_problem = "registration token" in str(error).lower()
        return PushResult(PushOutcome.DROP_TOKEN if token_problem else PushOutcome.FAILED, code)
    if isinstance(error, exceptions.FirebaseError):
        return PushResult(PushOutcome.RETRY, code, _retry_after(error))
    return PushResult(PushOutcome.RETRY, code)


def build_message(push: PushMessage) -> messaging.Message:
    """Only the dossier code, the procedure and the status; `dedupeKey` lets the app drop a repeat."""
    text = push_text(push.subject, push.locale)
    data = {"kind": "dossier_status", "dossierCode": push.subject.dossier_code,
            "status": push.subject.status.value.upper(), "dedupeKey": push.dedupe_key}
    return messaging.Message(
        fid=push.token,
        notification=messaging.Notification(title=text.title, body=text.body),
        data=data,
        android=messaging.AndroidConfig(collapse_key=push.subject.dossier_code, priority="high",
                                        ttl=timedelta(days=7)),
        apns=messaging.APNSConfig(headers={"apns-collapse-id": push.subject.dossier_code[-64:]}),
    )


class FcmSender:
    """One firebase-admin app per sender, so tests and workers with different settings do not share one."""

    def __init__(self, settings: NotificationSettings) -> None:
        fcm_sdk.point_at(settings.fcm_endpoint or "")
        credential: Any = (credentials.Certificate(str(settings.fcm_credentials_file))
                           if settings.fcm_credentials_file else AnonymousCredentials())  # type: ignore[no-untyped-call]
        options = {"projectId": settings.fcm_project_id, "httpTimeout": settings.fcm_http_timeout_seconds}
        self.app = firebase_admin.initialize_app(credential, options, name=f"superapp-{uuid.uuid4().hex[:8]}")
        self._service = fcm_sdk.messaging_service(self.app, timeout=settings.fcm_http_timeout_seconds,
                                                  retries=settings.fcm_sdk_retries)

    async def send(self, pushes: list[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(pushes), MAX_BATCH):
            chunk = [build_message(p) for p in pushes[start:start + MAX_BATCH]]
            batch = await messaging.send_each_async(chunk, app=self.app)
            results.extend(classify(r.exception) for r in batch.responses)
        return results

    async def aclose(self) -> None:
        await fcm_sdk.close(self._service)
        # delete_app closes the (now closed, so no-op) async client with asyncio.run: not from this loop.
        await asyncio.to_thread(firebase_admin.delete_app, self.app)
