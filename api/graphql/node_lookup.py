"""`node(id)`: global ids dispatched by type, each read scoped exactly like its own root field."""

from __future__ import annotations

import re

from strawberry import relay

from api.graphql.context import Info
from api.graphql.types.catalogue import Agency, Procedure
from api.graphql.types.dossier import Document, Dossier
from core import catalogue, dossiers
from core.documents import citizen_document
from core.errors import not_found

# Document ids are 32-bit integers on every database: anything else cannot exist.
_DOCUMENT_KEY = re.compile(r"[1-9][0-9]{0,8}")


async def resolve(info: Info, gid: relay.GlobalID) -> relay.Node:
    """Unknown type, unknown key and "not yours" all answer the same NOT_FOUND."""
    ctx = info.context
    kind, key = gid.type_name, gid.node_id
    if "\x00" in key:  # no key holds U+0000, and PostgreSQL refuses to compare with it
        raise not_found("đối tượng", "Object")
    if kind == "Dossier":
        citizen_id = await ctx.citizen_id()
        async with ctx.db.read() as session:
            return Dossier.from_row(await dossiers.citizen_dossier(session, citizen_id=citizen_id, code=key))
    if kind == "Document" and _DOCUMENT_KEY.fullmatch(key):
        citizen_id = await ctx.citizen_id()
        async with ctx.db.read() as session:
            document = await citizen_document(session, citizen_id=citizen_id, document_id=int(key))
        if document is not None:
            return Document.from_row(document)
    if kind == "Procedure":
        async with ctx.db.read() as session:
            procedure = await catalogue.procedure_by_code(session, key)
        if procedure is not None and procedure.active:
            return Procedure.from_row(procedure)
    if kind == "Agency":
        async with ctx.db.read() as session:
            agency = await catalogue.agency_by_code(session, key)
        if agency is not None:
            return Agency.from_row(agency)
    raise not_found("đối tượng", "Object")
