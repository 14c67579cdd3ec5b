"""Typed failures of an agency call. They are DomainErrors, so the GraphQL layer answers them with
`extensions.code` (AGENCY_UNAVAILABLE / AGENCY_TIMEOUT), the service code and vi/en messages."""

from __future__ import annotations

from core.errors import DomainError, ErrorCode


class AgencyError(DomainError):
    def __init__(self, code: ErrorCode, *, service: str, agency_vi: str, agency_en: str, reason: str) -> None:
        super().__init__(code, agency=agency_vi, agency_en=agency_en, service=service, reason=reason)
        self.service = service
        self.reason = reason


class AgencyUnavailable(AgencyError):
    """Down, refusing (5xx), answering garbage, or its circuit is open."""

    def __init__(self, *, service: str, agency_vi: str, agency_en: str, reason: str) -> None:
        super().__init__(ErrorCode.AGENCY_UNAVAILABLE, service=service, agency_vi=agency_vi, agency_en=agency_en,
                         reason=reason)


class AgencyRefused(AgencyUnavailable):
    """A final 4xx: the agency understood the request and said no; `detail` is its reason, as it gave it.

    A subclass of AgencyUnavailable, so a synchronous caller still answers AGENCY_UNAVAILABLE (reason
    `HTTP_<status>`); the forwarder tells it apart, because a refusal is never retried.
    """

    def __init__(self, *, service: str, agency_vi: str, agency_en: str, status: int, detail: str) -> None:
        super().__init__(service=service, agency_vi=agency_vi, agency_en=agency_en, reason=f"HTTP_{status}")
        self.status, self.detail = status, detail


class AgencyTimeout(AgencyError):
    """The call's time budget ran out (retries included)."""

    def __init__(self, *, service: str, agency_vi: str, agency_en: str) -> None:
        super().__init__(ErrorCode.AGENCY_TIMEOUT, service=service, agency_vi=agency_vi, agency_en=agency_en,
                         reason="TIMEOUT")


class BadAgencyResponse(Exception):
    """The agency answered, but not with what its API promises (a plug-in's parser raises this)."""
