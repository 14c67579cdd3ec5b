"""The contract the mobile app builds against: schema snapshot, operations, persisted documents."""
