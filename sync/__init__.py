"""Offline sync: checkpointed pull, exactly-once push, conflict rules and the reference client.

The change log it reads is written by core (`core/change_log.py`) in the same transaction as each change.
The protocol is specified in docs/SYNC_PROTOCOL.md.
"""
