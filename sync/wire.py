"""The two GraphQL documents the reference client sends: the app's own contract operations, read from
`mobile_contract/operations/`, so the client can never drift from what the app ships (and sends exactly the
text whose SHA-256 is in the persisted manifest)."""

from __future__ import annotations

from mobile_contract.manifest import OPERATIONS, operation_text

PULL_DOCUMENT = operation_text(OPERATIONS / "SyncChanges.graphql")
PULL_FIELD = "syncChanges"  # nullable; the released `syncPull` (SyncPull.graphql) is deprecated
PUSH_DOCUMENT = operation_text(OPERATIONS / "SyncPush.graphql")
# The pull the reference client sends: SyncChanges plus the home screen's service directory when it changed.
DIRECTORY_PULL_DOCUMENT = operation_text(OPERATIONS / "SyncChangesWithDirectory.graphql")
