"""The one place that reaches into firebase-admin's private names, so an SDK upgrade breaks here, loudly.

firebase-admin has no emulator switch and no public way to set the async client's retries: the endpoint
is the class attribute `_MessagingService.FCM_URL` (read when an app's messaging service is first created)
and the async HTTP client is built inside that service with the SDK's default retries (four, with backoff),
which would nest under the outbox's own retries. The private names below are all we depend on;
`missing_internals()` checks them, the worker refuses to start without them, and a test pins them, so the
version range in pyproject.toml (`firebase-admin>=7.7,<7.8`) is widened only after that test passes.
"""

from __future__ import annotations

import inspect
from typing import Any

import firebase_admin
from firebase_admin import _http_client, messaging
from firebase_admin._retry import HttpxRetry

FCM_PATH = "/v1/projects/{0}/messages:send"

# (object, attribute) pairs: every private name this module uses.
_PRIVATE: tuple[tuple[Any, str], ...] = (
    (messaging, "_MessagingService"),
    (messaging, "_get_messaging_service"),
    (_http_client, "HttpxAsyncClient"),
)
# Attributes set on a messaging service instance, checked on a live one.
_SERVICE_ATTRIBUTES = ("_async_client", "_credential")
_CLIENT_PARAMETERS = {"credential", "timeout", "retry_config"}


def missing_internals(service: object | None = None) -> list[str]:
    """The private names this module needs that the installed SDK lacks (empty when all is well)."""
    missing = [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in _PRIVATE if not hasattr(owner, name)]
    if not missing:
        url = getattr(messaging._MessagingService, "FCM_URL", None)
        if not isinstance(url, str) or "{0}" not in url:
            missing.append("_MessagingService.FCM_URL with a '{0}' project placeholder")
        parameters = set(inspect.signature(_http_client.HttpxAsyncClient.__init__).parameters)
        missing.extend(f"HttpxAsyncClient({name}=...)" for name in sorted(_CLIENT_PARAMETERS - parameters))
    if service is not None:
        missing.extend(f"_MessagingService.{name}" for name in _SERVICE_ATTRIBUTES if not hasattr(service, name))
    return missing


def point_at(endpoint: str) -> None:
    """Send every app's pushes to `endpoint` (the loopback stand-in, or Google's when empty)."""
    if endpoint:
        messaging._MessagingService.FCM_URL = endpoint.rstrip("/") + FCM_PATH


def messaging_service(app: firebase_admin.App, *, timeout: float, retries: int) -> Any:
    """The app's messaging service, with an async client that retries 500/503 at most `retries` times."""
    service = messaging._get_messaging_service(app)
    problems = missing_internals(service)
    if problems:
        raise RuntimeError(f"firebase-admin {firebase_admin.__version__} lacks what notifications/fcm_sdk.py "
                           f"uses: {', '.join(problems)}")
    retry = HttpxRetry(max_retries=retries, status_forcelist=[500, 503], backoff_factor=0.5)
    service._async_client = _http_client.HttpxAsyncClient(credential=service._credential, timeout=timeout,
                                                          retry_config=retry)
    return service


async def close(service: Any) -> None:
    await service._async_client.aclose()
