"""syncPush: the offline app's queued mutations, each answered; optionally the next pull page too."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.sync_query import pull_request
from api.graphql.types.sync import SyncMutationResult, SyncPage
from core.clock import utc_now
from services.payment_gateway import PaymentGateway
from services.payments import open_unopened
from sync.intents import PREFILLING_INTENTS
from sync.pull import pull
from sync.push import MutationIn, push


@strawberry.input(description="One queued intent. `seq` is per install, from 1, gapless, assigned when queued; "
                              "`baseVersion` is the record's version as this install last received it from "
                              "the server (0: never, e.g. created offline). See docs/SYNC_PROTOCOL.md, section 4.")
class SyncMutationInput:
    client_mutation_id: str = strawberry.field(description="A UUID made by the app when the user acted "
                                                           "(at most 48 characters).")
    seq: int
    intent: str = strawberry.field(description="draft.create | draft.update | draft.delete | draft.restore | "
                                               "draft.submit | dossier.withdraw | dossier.supplement | dossier.pay | "
                                               "notifications.markRead | dossier.rate")
    record_id: str | None = strawberry.field(default=None, description="Draft UUID or dossier code.")
    base_version: int | None = strawberry.field(default=None, description="The record version the edit was made on.")
    # No default: graphql-core cannot print `{}` as a JSON default (the introspection query fails at
    # `defaultValue`, codegen chokes on the SDL), so the field is nullable and null or absent means no args.
    args: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Changed fields only, e.g. {fields: {...}}; null or omitted means none.")
    client_time: str | None = strawberry.field(default=None, description="Audit only; never orders anything.")


@strawberry.input
class SyncPushInput:
    client_id: str = strawberry.field(description="The app install's UUID; it belongs to its first citizen.")
    schema_version: int
    mutations: list[SyncMutationInput]
    pull_from: str | None = strawberry.field(default=None, description="A checkpoint: also return the next page.")
    pull_limit: int | None = None
    pull_max_bytes: int | None = None


@strawberry.type
class SyncPushPayload:
    results: list[SyncMutationResult]
    last_applied_seq: int
    page: SyncPage | None


async def sync_push_mutation(info: Info, input: SyncPushInput) -> SyncPushPayload:
    ctx = info.context
    citizen = await ctx.citizen()
    assert citizen.id is not None
    citizen_id = citizen.id
    mutations = [MutationIn(client_mutation_id=m.client_mutation_id, seq=m.seq, intent=m.intent,
                            record_id=m.record_id, base_version=m.base_version,
                            args={} if m.args in (None, strawberry.UNSET) else m.args)
                 for m in input.mutations]
    # Resolved before the push's transactions (it may ask an agency), and only when a form is filed.
    profile = await ctx.profile() if any(m.intent in PREFILLING_INTENTS for m in mutations) else None
    outcome = await push(ctx.db, citizen=citizen, client_id=input.client_id, schema_version=input.schema_version,
                         mutations=mutations, routes=ctx.services.routes(), calendar=ctx.calendar,
                         tz_name=ctx.settings.timezone, max_mutations=ctx.settings.sync.push_max_mutations,
                         profile=profile, daily_cap=ctx.settings.quota.submissions_per_day,
                         max_attachments=ctx.settings.uploads.max_per_dossier,
                         audit_as=lambda fields, operation: by_citizen(ctx, citizen_id, fields, operation),
                         payment_deadline_days=ctx.settings.payments.deadline_days)
    if outcome.submitted and ctx.forwarder is not None:
        ctx.forwarder.kick()
    if any(m.intent == "dossier.pay" for m in mutations):  # their orders now, not at the poller's next round
        await open_unopened(ctx.db, PaymentGateway(ctx.settings.payments), citizen_id=citizen_id)
    page = None
    if input.pull_from is not None:
        request = pull_request(ctx.settings, checkpoint=input.pull_from or None, schema_version=input.schema_version,
                               limit=input.pull_limit, max_bytes=input.pull_max_bytes)
        async with ctx.db.read() as session:
            found = await pull(session, citizen_id=citizen.id, request=request, epoch=ctx.settings.sync.epoch)
        page = SyncPage.from_page(found, now=utc_now())
    return SyncPushPayload(results=[SyncMutationResult.from_answer(a, ctx.locale) for a in outcome.results],
                           last_applied_seq=outcome.last_applied_seq, page=page)
