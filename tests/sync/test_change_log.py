"""Every core write to data a device holds re-stamps its change-log row, in the same transaction."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from core.catalogue_merge import merge_procedures
from core.change_log import PUBLIC_SCOPE, citizen_scope, stamp
from core.db import Database
from core.dossier_status import DossierStatus
from core.models import ChangeLogEntry
from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.services.test_interconnected import FORM
from tests.support import SUBMIT, citizen, gql, until_received
from tests.sync.helpers import advance, citizen_row, pull_all, submitted_dossier


async def _entries(db: Database, scope: str) -> dict[tuple[str, str], ChangeLogEntry]:
    async with db.read() as session:
        rows = (await session.execute(select(ChangeLogEntry).where(ChangeLogEntry.scope == scope))).scalars()
        return {(r.record_type, r.record_id): r for r in rows}


async def test_submission_and_status_changes_stamp_the_dossier(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await submitted_dossier(client, who)
    scope = citizen_scope((await citizen_row(db, who)).id or 0)
    first = (await _entries(db, scope))[("dossier", code)]
    await advance(db, code, DossierStatus.ACCEPTED)
    after = (await _entries(db, scope))[("dossier", code)]
    assert (first.version, after.version) == (1, 2)
    assert after.seq > first.seq
    seen, _ = await pull_all(client, who)
    assert seen[("dossier", code)]["data"]["status"] == "ACCEPTED"
    assert [e["status"] for e in seen[("dossier", code)]["data"]["events"]] == ["SUBMITTED", "ACCEPTED"]


async def test_agency_events_move_parts_and_the_interconnected_parent(
        settings: Settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, object]) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM}, who=who)
    parent = body["data"]["submitDossier"]["dossier"]["code"]
    seen, checkpoint = await pull_all(client, who)
    parts = {k[1]: c for k, c in seen.items() if k[0] == "dossier" and c["data"]["parentCode"] == parent}
    assert len(parts) == 3
    owners = {"1.001193": "civil_status", "1.004194": "residence", "1.001612": "social_insurance"}
    for code, change in parts.items():
        running = sandboxes[owners[change["data"]["procedureCode"]]]
        await until_received(running, code)  # type: ignore[arg-type]
        await running.advance(code)  # type: ignore[attr-defined]  # a real signed callback to the server
    later, _ = await pull_all(client, who, checkpoint)
    assert later[("dossier", parent)]["data"]["status"] == "ACCEPTED"  # moved by the last part's event
    assert {k[1] for k in later if k[0] == "dossier"} == {parent, *parts}


async def test_catalogue_merges_stamp_only_what_changed(db: Database) -> None:
    spec = dict(PROCEDURES[0])
    before = (await _entries(db, PUBLIC_SCOPE))[("procedure", spec["code"])]
    async with db.write() as session:
        assert await merge_procedures(session, [spec]) == 1
    unchanged = (await _entries(db, PUBLIC_SCOPE))[("procedure", spec["code"])]
    assert unchanged.seq == before.seq  # a restart's merge makes no device re-download the catalogue
    async with db.write() as session:
        await merge_procedures(session, [{**spec, "fee_vnd": 12_345}])
        await merge_procedures(session, [spec])
    edited = (await _entries(db, PUBLIC_SCOPE))[("procedure", spec["code"])]
    assert edited.seq > before.seq
    assert edited.version == before.version + 2


async def test_a_stamp_rolls_back_with_its_transaction(db: Database) -> None:
    before = await _entries(db, "c:rollback-test")

    class Boom(Exception):
        pass

    async def stamp_then_fail() -> None:
        async with db.write() as session:
            await stamp(session, scope="c:rollback-test", record_type="draft", record_id="x")
            raise Boom

    with pytest.raises(Boom):
        await stamp_then_fail()
    assert await _entries(db, "c:rollback-test") == before == {}


def test_the_reference_client_sends_persisted_documents() -> None:
    """A production server runs only the manifest: the client's documents must be in it, byte for byte."""
    from mobile_contract.manifest import document_hash, load
    from sync.wire import PULL_DOCUMENT, PUSH_DOCUMENT

    manifest = load()
    assert manifest[document_hash(PULL_DOCUMENT)] == PULL_DOCUMENT
    assert manifest[document_hash(PUSH_DOCUMENT)] == PUSH_DOCUMENT
