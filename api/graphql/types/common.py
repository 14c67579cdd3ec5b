"""Types shared across the schema: localized text, Relay connections, typed user errors, enums."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from core.dossier_status import DossierStatus as CoreDossierStatus
from core.errors import ErrorCode as CoreErrorCode
from core.errors import FieldError
from core.pagination import Page, encode_cursor

ErrorCode = strawberry.enum(
    CoreErrorCode, name="ErrorCode",
    description="Stable codes for user mistakes and query errors; the front-end guide lists what to do for each.",
)
DossierStatus = strawberry.enum(
    CoreDossierStatus, name="DossierStatus",
    description="The ten national dossier statuses, in national-code order (1 = SUBMITTED ... 10 = RETURNED).",
)

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="A text in Vietnamese and English; the app shows the user's language.")
class LocalizedText:
    vi: str
    en: str


@strawberry.type(description="A mistake in the request that the citizen can fix, attached to a field.")
class UserError:
    code: ErrorCode  # type: ignore[valid-type]
    field: str | None = strawberry.field(description="Dotted input path, e.g. `formData.child.birthDate`.")
    message: str = strawberry.field(description="In the request's language (Accept-Language; vi by default).")
    message_vi: str
    message_en: str

    @classmethod
    def from_field_error(cls, error: FieldError, locale: str) -> UserError:
        return cls(code=error.code, field=error.field,
                   message=error.message_en if locale == "en" else error.message_vi,
                   message_vi=error.message_vi, message_en=error.message_en)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], *, kind: str, has_previous: bool,
                  convert: Callable[[Any], T]) -> Connection[T]:
        cursors = [encode_cursor(kind, key) for key in page.keys]
        edges = [Edge(cursor=c, node=convert(item)) for c, item in zip(cursors, page.items, strict=True)]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, has_previous_page=has_previous,
                               start_cursor=cursors[0] if cursors else None,
                               end_cursor=cursors[-1] if cursors else None),
        )
