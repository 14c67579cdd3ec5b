"""SMS behind a small interface: the dispatcher needs `send`, and any gateway can provide it.

`HttpSmsGateway` posts `{"to", "text", "reference"}` as JSON; 2xx is accepted, 429/5xx and network errors
are worth retrying (Retry-After honoured), any other answer is permanent. The phone number goes to the
gateway and nowhere else: errors carry status codes, never the number or the text.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from core.text import ascii_digits


class SmsError(Exception):
    def __init__(self, code: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code, self.permanent, self.retry_after = code, permanent, retry_after


class SmsGateway(Protocol):
    async def send(self, *, phone: str, text: str, reference: str) -> None: ...

    async def aclose(self) -> None: ...


class HttpSmsGateway:
    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self._http = httpx.AsyncClient(timeout=timeout)

    async def send(self, *, phone: str, text: str, reference: str) -> None:
        try:
            response = await self._http.post(self.url, json={"to": phone, "text": text, "reference": reference})
        except httpx.HTTPError as error:
            raise SmsError(type(error).__name__, permanent=False) from None
        if response.is_success:
            return
        transient = response.status_code == 429 or response.status_code >= 500
        retry_after = response.headers.get("retry-after")
        raise SmsError(f"HTTP_{response.status_code}", permanent=not transient,
                       retry_after=float(retry_after) if retry_after and ascii_digits(retry_after) else None)

    async def aclose(self) -> None:
        await self._http.aclose()


class NoSmsGateway:
    """When no gateway is configured (production without `SUPERAPP_SMS_GATEWAY_URL`): SMS fails at once."""

    async def send(self, *, phone: str, text: str, reference: str) -> None:
        raise SmsError("NO_SMS_GATEWAY", permanent=True)

    async def aclose(self) -> None:
        return None
