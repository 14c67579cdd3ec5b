"""Mutation root: one file per mutation, each with its own input and payload types."""

from __future__ import annotations

import strawberry

from api.graphql.mutations.device_register import RegisterDevicePayload, register_device_mutation
from api.graphql.mutations.device_unregister import UnregisterDevicePayload, unregister_device_mutation
from api.graphql.mutations.dossier_pay import PayDossierFeePayload, pay_dossier_fee_mutation
from api.graphql.mutations.dossier_rate import RateDossierPayload, rate_dossier_mutation
from api.graphql.mutations.dossier_submit import SubmitDossierPayload, submit_dossier_mutation
from api.graphql.mutations.dossier_supplement import SupplementDossierPayload, supplement_dossier_mutation
from api.graphql.mutations.dossier_withdraw import WithdrawDossierPayload, withdraw_dossier_mutation
from api.graphql.mutations.notification_preferences_update import (
    UpdateNotificationPreferencesPayload,
    update_notification_preferences_mutation,
)
from api.graphql.mutations.notifications_mark_read import (
    MarkNotificationsReadPayload,
    mark_notifications_read_mutation,
)
from api.graphql.mutations.sync_push import SyncPushPayload, sync_push_mutation


@strawberry.type
class Mutation:
    submit_dossier: SubmitDossierPayload | None = strawberry.mutation(
        resolver=submit_dossier_mutation, description="File a dossier. Needs a token."
    )
    supplement_dossier: SupplementDossierPayload | None = strawberry.mutation(
        resolver=supplement_dossier_mutation,
        description="Send what the agency asked for (status SUPPLEMENT_REQUESTED). Needs a token.",
    )
    pay_dossier_fee: PayDossierFeePayload | None = strawberry.mutation(
        resolver=pay_dossier_fee_mutation,
        description="Pay the fees the agency asked for (status PAYMENT_REQUESTED) on the gateway's page; "
                    "idempotent, charged at most once. Needs a token.",
    )
    withdraw_dossier: WithdrawDossierPayload | None = strawberry.mutation(
        resolver=withdraw_dossier_mutation, description="Ask to withdraw a dossier. Needs a token."
    )
    rate_dossier: RateDossierPayload | None = strawberry.mutation(
        resolver=rate_dossier_mutation,
        description="Rate a dossier once its result is returned (status RETURNED), once. Needs a token.",
    )
    sync_push: SyncPushPayload | None = strawberry.mutation(
        resolver=sync_push_mutation, description="Offline sync: apply queued mutations exactly once. Needs a token."
    )
    register_device: RegisterDevicePayload | None = strawberry.mutation(
        resolver=register_device_mutation, description="Receive pushes on this install. Needs a token."
    )
    unregister_device: UnregisterDevicePayload | None = strawberry.mutation(
        resolver=unregister_device_mutation, description="Stop pushes to this install. Needs a token."
    )
    mark_notifications_read: MarkNotificationsReadPayload | None = strawberry.mutation(
        resolver=mark_notifications_read_mutation, description="Mark inbox entries read. Needs a token."
    )
    update_notification_preferences: UpdateNotificationPreferencesPayload | None = strawberry.mutation(
        resolver=update_notification_preferences_mutation,
        description="Push, SMS fallback and quiet hours. Needs a token.",
    )
