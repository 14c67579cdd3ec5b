"""`SyncMutationInput.args` has no default (an object default breaks introspection and codegen): null and
an omitted `args` both mean "no args", and the intent answers as it would to `{}`."""

from __future__ import annotations

import uuid

import httpx
import pytest

from core.settings import Settings
from tests.support import citizen
from tests.sync.helpers import push


@pytest.mark.parametrize("args", ["null", "omitted", "{}"])
async def test_null_or_omitted_args_mean_no_args(client: httpx.AsyncClient, settings: Settings, args: str) -> None:
    who = citizen(settings)
    delete = {"clientMutationId": str(uuid.uuid4()), "seq": 1, "intent": "draft.delete",
              "recordId": str(uuid.uuid4()), "baseVersion": None}
    if args != "omitted":
        delete["args"] = None if args == "null" else {}
    body = await push(client, who, str(uuid.uuid4()), [delete])
    assert "errors" not in body, body
    results = body["data"]["syncPush"]["results"]
    assert [r["seq"] for r in results] == [1]
    assert results[0]["status"] in {"APPLIED", "REJECTED"}
    return_value = results[0]["status"], (results[0]["error"] or {}).get("code")
    expected = await push(client, citizen(settings), str(uuid.uuid4()), [{**delete, "args": {}}])
    reference = expected["data"]["syncPush"]["results"][0]
    assert return_value == (reference["status"], (reference["error"] or {}).get("code"))
