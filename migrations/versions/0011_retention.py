"""Retention: indexes on the columns `superapp maintenance` selects finished rows by (core/retention.py), so
each batch finds its rows without scanning the table; and `sync_client.answered_below`, the lowest seq of an
install's latest push (the install holds every answer below it), 0 for existing installs (nothing known).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, str, list[str]]] = [
    ('ix_outbox_message_finished', 'outbox_message', ['state', 'created_at']),
    ('ix_notification_read', 'notification', ['read_at']),
    ('ix_sync_mutation_result_created', 'sync_mutation_result', ['created_at']),
    ('ix_agency_event_received', 'agency_event', ['received_at']),
    ('ix_forward_job_ended', 'forward_job', ['ended_at']),
    ('ix_change_log_tombstone', 'change_log', ['deleted', 'changed_at']),
    ('ix_draft_trash', 'draft', ['status', 'deleted_at']),
]


def upgrade() -> None:
    with op.batch_alter_table('sync_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_below', sa.Integer(), nullable=False, server_default='0'))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('sync_client', schema=None) as batch_op:
        batch_op.drop_column('answered_below')
