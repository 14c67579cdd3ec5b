"""Mutation root: one file per mutation, each with its own input and payload types."""

from __future__ import annotations

import strawberry

from api.graphql.mutations.dossier_submit import SubmitDossierPayload, submit_dossier_mutation
from api.graphql.mutations.dossier_withdraw import WithdrawDossierPayload, withdraw_dossier_mutation
from api.graphql.mutations.sync_push import SyncPushPayload, sync_push_mutation


@strawberry.type
class Mutation:
    submit_dossier: SubmitDossierPayload | None = strawberry.mutation(
        resolver=submit_dossier_mutation, description="File a dossier. Needs a token."
    )
    withdraw_dossier: WithdrawDossierPayload | None = strawberry.mutation(
        resolver=withdraw_dossier_mutation, description="Ask to withdraw a dossier. Needs a token."
    )
    sync_push: SyncPushPayload | None = strawberry.mutation(
        resolver=sync_push_mutation, description="Offline sync: apply queued mutations exactly once. Needs a token."
    )
