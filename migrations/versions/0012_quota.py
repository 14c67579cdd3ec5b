"""Quota state shared by the API workers (per citizen, per IP, per agency service, daily submissions).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 12:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'quota_bucket',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('quota_bucket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quota_bucket_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quota_bucket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quota_bucket_expires_at'))
    op.drop_table('quota_bucket')
