"""App versions: the operators' minimum version per platform, and which operations each app version sends.

Revision ID: 0017_versions
Revises: 0016_uploads
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017_versions'
down_revision: str | None = '0016_uploads'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'app_minimum_version',
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('minimum_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('store_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('platform'),
    )
    op.create_table(
        'app_operation_usage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('app_name', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('app_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('operation_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('operation_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('app_name', 'app_version', 'operation_hash', name='uq_app_operation_usage_key'),
    )
    with op.batch_alter_table('app_operation_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_operation_usage_last_seen'), ['last_seen'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('app_operation_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_operation_usage_last_seen'))
    op.drop_table('app_operation_usage')
    op.drop_table('app_minimum_version')
