"""Devices and preferences: validation, the shared family phone, push off, SMS fallback off, quiet hours."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx

from core.clock import utc_now
from core.db import Database
from core.models import NotificationPreference
from core.outbox import quiet_until
from notifications.standins import FcmStandin, SmsStandin
from tests.notifications.conftest import DispatcherFactory
from tests.notifications.support import (
    agency_event,
    forwarded_dossier,
    new_token,
    notifications_of,
    outbox_of,
    register,
    set_phone,
)
from tests.support import Citizen, RunningSandbox, citizen, gql

PREFS = """mutation($i: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $i) {
  preferences { pushEnabled smsFallback quietHoursStart quietHoursEnd } errors { code field } } }"""
DEVICES = "{ myDevices { platform locale } }"
UNREGISTER = "mutation($t: String!) { unregisterDevice(input: {token: $t}) { removed } }"


async def test_register_device_refuses_bad_input_with_typed_errors(settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    assert (await register(client, who, new_token(), platform="symbian"))["errors"] == [
        {"code": "UNSUPPORTED_PLATFORM", "field": "platform"}]
    assert (await register(client, who, "has space"))["errors"] == [{"code": "INVALID_DEVICE_TOKEN", "field": "token"}]
    assert (await register(client, who, new_token(), locale="fr"))["errors"] == [
        {"code": "UNSUPPORTED_LOCALE", "field": "locale"}]
    anonymous = await gql(client, DEVICES)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_moves_to_the_citizen_who_registers_it_last(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    parent, child = citizen(settings), citizen(settings)
    shared = new_token()
    await register(client, parent, shared)
    code = await forwarded_dossier(client, parent, sandboxes["residence"])
    await register(client, child, shared, locale="en")
    assert (await gql(client, DEVICES, who=parent))["data"]["myDevices"] == []
    assert (await gql(client, DEVICES, who=child))["data"]["myDevices"] == [{"platform": "android", "locale": "en"}]
    # The parent's news must not reach the phone now signed in as the child.
    await agency_event(client, code, "accepted")
    [notification] = await notifications_of(db, parent)
    assert await outbox_of(db, notification.id or 0) == []
    assert notification.delivery == "inbox_only"
    assert (await gql(client, UNREGISTER, {"t": shared}, who=parent))["data"]["unregisterDevice"]["removed"] is False
    assert (await gql(client, UNREGISTER, {"t": shared}, who=child))["data"]["unregisterDevice"]["removed"] is True
    assert fcm[0].attempts_for(shared) == []


async def test_push_off_sends_sms_and_sms_off_keeps_it_in_the_inbox(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    sms: tuple[SmsStandin, str],
) -> None:
    who = citizen(settings)
    await register(client, who, new_token())
    await set_phone(db, who, "0987000111")
    body = await gql(client, PREFS, {"i": {"pushEnabled": False}}, who=who)
    assert body["data"]["updateNotificationPreferences"]["preferences"] == {
        "pushEnabled": False, "smsFallback": True, "quietHoursStart": None, "quietHoursEnd": None}
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    await gql(client, PREFS, {"i": {"smsFallback": False}}, who=who)
    await agency_event(client, code, "processing")
    first, second = await notifications_of(db, who)
    assert [r.channel for r in await outbox_of(db, first.id or 0)] == ["sms"]
    assert await outbox_of(db, second.id or 0) == []
    assert second.delivery == "inbox_only"


async def test_action_needed_goes_by_sms_as_well_as_push(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    who = citizen(settings)
    await register(client, who, new_token())
    await set_phone(db, who, "0987000222")
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    for status in ("accepted", "processing", "supplement_requested"):
        await agency_event(client, code, status)
    channels = [[r.channel for r in await outbox_of(db, n.id or 0)] for n in await notifications_of(db, who)]
    assert channels == [["push"], ["push"], ["push", "sms"]]


async def _quiet_for_the_next_two_hours(client: httpx.AsyncClient, who: Citizen, tz: ZoneInfo) -> None:
    local = utc_now().astimezone(tz)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    window = {"quietHoursStart": start.strftime("%H:%M"), "quietHoursEnd": end.strftime("%H:%M")}
    body = await gql(client, PREFS, {"i": window}, who=who)
    assert body["data"]["updateNotificationPreferences"]["errors"] == []


async def test_quiet_hours_defer_delivery_until_they_end(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    who = citizen(settings)
    token = new_token()
    await register(client, who, token)
    await _quiet_for_the_next_two_hours(client, who, ZoneInfo(settings.timezone))
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    [notification] = await notifications_of(db, who)
    await make_dispatcher().run_once()
    [row] = await outbox_of(db, notification.id or 0)
    assert timedelta(hours=1, minutes=58) < row.next_attempt_at - utc_now() <= timedelta(hours=2)
    assert (row.state, row.attempts, row.lease_owner) == ("pending", 0, None)
    assert fcm[0].attempts_for(token) == []
    half = await gql(client, PREFS, {"i": {"quietHoursStart": "22:00"}}, who=who)
    assert half["data"]["updateNotificationPreferences"]["errors"] == [
        {"code": "INVALID_QUIET_HOURS", "field": "quietHoursEnd"}]
    bad = await gql(client, PREFS, {"i": {"quietHoursStart": "25:00", "quietHoursEnd": "06:00"}}, who=who)
    assert bad["data"]["updateNotificationPreferences"]["errors"][0]["code"] == "INVALID_QUIET_HOURS"


async def test_quiet_hours_are_the_wall_clock_of_the_configured_time_zone(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    """A deployment in Honolulu (UTC-10, 17 hours behind Hà Nội): quiet hours around Honolulu's "now" are
    quiet, whatever the clock says in Hà Nội."""
    who = citizen(settings)
    token = new_token()
    await register(client, who, token)
    await _quiet_for_the_next_two_hours(client, who, ZoneInfo("Pacific/Honolulu"))
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    [notification] = await notifications_of(db, who)
    await make_dispatcher(timezone="Pacific/Honolulu").run_once()
    [row] = await outbox_of(db, notification.id or 0)
    assert row.state == "pending"
    assert timedelta(hours=1, minutes=58) < row.next_attempt_at - utc_now() <= timedelta(hours=2)
    assert fcm[0].attempts_for(token) == []


def test_quiet_hours_span_midnight() -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    preference = NotificationPreference(citizen_id=1, quiet_start_minute=22 * 60, quiet_end_minute=6 * 60)
    late = utc_now().astimezone(tz).replace(hour=23, minute=30, second=0, microsecond=0)
    assert quiet_until(preference, late, tz) == (late + timedelta(days=1)).replace(hour=6, minute=0)
    early = late.replace(hour=5)
    assert quiet_until(preference, early, tz) == early.replace(hour=6, minute=0)
    assert quiet_until(preference, late.replace(hour=12), tz) is None
