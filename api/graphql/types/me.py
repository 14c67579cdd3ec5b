"""The signed-in citizen's own profile and wallet."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.types.dossier import Document
from core import models
from core.catalogue import procedure_by_code
from core.documents import DOCUMENT_KIND, citizen_documents
from core.errors import DomainError, ErrorCode
from core.forms import prefill, prefill_sources
from core.wallet import Verification
from services.registry import personal

UNVERIFIED = frozenset({Verification.INVALID.value, Verification.UNKNOWN_KEY.value})


@strawberry.type(description="The signed-in citizen.")
class Me:
    id_number: str = strawberry.field(description="Personal identification number (12 digits).",
                                      directives=[personal("id_number")])
    full_name: str = strawberry.field(directives=[personal("name")])
    birth_date: date | None = strawberry.field(directives=[personal("birth_date")])
    sex: str | None = strawberry.field(directives=[personal("sex")])
    hometown: str | None = strawberry.field(directives=[personal("hometown")])
    permanent_address: str | None = strawberry.field(directives=[personal("address")])
    phone: str | None = strawberry.field(directives=[personal("phone")])
    email: str | None = strawberry.field(directives=[personal("email")])
    citizen_id: strawberry.Private[int]

    @strawberry.field(description="The document wallet, newest first; `kind` keeps one kind (what a form's "
                                  "`x-document-kind` asks for: offer those whose `isValid` is true). Documents whose "
                                  "signature did not verify (`verification` INVALID or UNKNOWN_KEY) are listed only "
                                  "with `includeUnverified: true`, so an app that does not read `verification` "
                                  "never shows one as valid.",
                      directives=[personal("documents")])
    async def documents(self, info: Info, kind: str | None = None,
                        include_unverified: bool = False) -> list[Document]:
        if kind is not None and not DOCUMENT_KIND.fullmatch(kind):
            return []  # no document has a kind outside the format agencies must use
        async with info.context.db.read() as session:
            rows = await citizen_documents(session, citizen_id=self.citizen_id, kind=kind)
        shown = [r for r in rows if include_unverified or r.verification not in UNVERIFIED]
        return [Document.from_row(r, today=info.context.today) for r in shown]

    @strawberry.field(description="The procedure's e-form with the fields we already know filled in.",
                      directives=[personal("id_number", "name", "birth_date", "sex", "hometown", "address")])
    async def form_prefill(self, info: Info, procedure_code: str) -> JSON:
        """From the e-ID and, where it is silent, the services that vouch for the citizen (population
        record); a field an unavailable agency would fill is left out for the citizen to type."""
        async with info.context.db.read() as session:
            procedure = await procedure_by_code(session, procedure_code)
        if procedure is None or not procedure.active:
            raise DomainError(ErrorCode.PROCEDURE_NOT_AVAILABLE, field="procedureCode", code=procedure_code)
        profile = await info.context.profile(wanted=prefill_sources(procedure.form_schema))
        filled: dict[str, Any] = prefill(procedure.form_schema, {}, profile.values)
        return cast(JSON, filled)

    @classmethod
    def from_row(cls, row: models.Citizen, *, full_name: str | None = None) -> Me:
        assert row.id is not None
        return cls(id_number=row.id_number, full_name=full_name if full_name is not None else row.full_name,
                   birth_date=row.birth_date, sex=row.sex,
                   hometown=row.hometown, permanent_address=row.permanent_address, phone=row.phone,
                   email=row.email, citizen_id=row.id)
