"""The two GraphQL documents the reference client sends: byte for byte the app's contract operations
(`mobile_contract/operations/SyncPull.graphql`, `SyncPush.graphql`; a test keeps them equal)."""

PULL_DOCUMENT = """\
# Offline sync, read path: the changes after the stored checkpoint (none on first sync), one page at a time.
# Apply the page and store its checkpoint in ONE local transaction; repeat while hasMore.
query SyncPull($checkpoint: String, $schemaVersion: Int!, $limit: Int, $maxBytes: Int) {
  syncPull(checkpoint: $checkpoint, schemaVersion: $schemaVersion, limit: $limit, maxBytes: $maxBytes) {
    changes { type id version deleted data }
    checkpoint
    hasMore
    head
    remaining
    reset
    serverTime
  }
}
"""

PUSH_DOCUMENT = """\
# Offline sync, write path: the queued mutations in seq order, and (pullFrom) the next page in the same trip.
# Drop a mutation from the queue only once it is answered APPLIED, MERGED, DUPLICATE, CONFLICT or REJECTED.
mutation SyncPush($input: SyncPushInput!) {
  syncPush(input: $input) {
    results {
      clientMutationId seq status originalStatus recordType version record expectedSeq
      conflicts { field serverValue yourValue }
      error { code field message }
    }
    lastAppliedSeq
    page {
      changes { type id version deleted data }
      checkpoint
      hasMore
      head
      remaining
      reset
      serverTime
    }
  }
}
"""
