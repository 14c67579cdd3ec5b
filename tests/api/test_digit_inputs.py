"""Characters that `str.isdigit()` takes for digits ("²", "٣") are ordinary bad input, never an INTERNAL_ERROR."""

from __future__ import annotations

import httpx
import pytest

from tests.support import citizen, gql

MARK = "mutation($ids: [ID!]!) { markNotificationsRead(input: {ids: $ids}) { markedIds unreadCount errors { code } } }"
PREFS = """mutation($i: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $i) {
  errors { code field } } }"""


@pytest.mark.parametrize("odd", ["²", "٣", "1²"])
async def test_mark_read_with_a_superscript_digit_marks_nothing(settings, client: httpx.AsyncClient, odd: str) -> None:
    body = await gql(client, MARK, {"ids": [odd]}, who=citizen(settings))
    assert "errors" not in body, body
    assert body["data"]["markNotificationsRead"]["markedIds"] == []


@pytest.mark.parametrize("odd", ["1²:00", "٢٢:00", "22:٠٠"])
async def test_quiet_hours_with_a_superscript_digit_are_invalid_quiet_hours(settings, client: httpx.AsyncClient,
                                                                          odd: str) -> None:
    body = await gql(client, PREFS, {"i": {"quietHoursStart": odd, "quietHoursEnd": "06:00"}}, who=citizen(settings))
    assert body["data"]["updateNotificationPreferences"]["errors"] == [
        {"code": "INVALID_QUIET_HOURS", "field": "quietHoursStart"}]
