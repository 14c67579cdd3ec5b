"""Feature flags of the service directory: `feature_flag` (staged roll-out per province and app version).

Revision ID: 0015_directory
Revises: 0014_home
Create Date: 2026-12-06 03:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015_directory'
down_revision: str | None = '0014_home'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'feature_flag',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('provinces', sa.JSON(), nullable=False),
        sa.Column('min_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('feature_flag')
