"""The privacy audit trail: `audit_entry` (append-only, hash-chained) and its one head row `audit_head`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        'audit_entry',
        sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('subject_citizen_id', sa.Integer(), nullable=False),
        sa.Column('fields', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column('operation', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    op.create_index('ix_audit_entry_subject_seq', 'audit_entry', ['subject_citizen_id', 'seq'], unique=False)
    head = op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": _GENESIS}])


def downgrade() -> None:
    op.drop_table('audit_head')
    op.drop_index('ix_audit_entry_subject_seq', table_name='audit_entry')
    op.drop_table('audit_entry')
