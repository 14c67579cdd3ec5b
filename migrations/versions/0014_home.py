"""The home screen: agencies' announcements and the operators' layout (sections, default frequent services).

Revision ID: 0014_home
Revises: 0013
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014_home'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'announcement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('title_vi', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('title_en', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('body_vi', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('body_en', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('provinces', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('withdrawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_code', 'external_id', name='uq_announcement_service_external'),
    )
    op.create_index('ix_announcement_window', 'announcement', ['ends_at', 'starts_at'], unique=False)
    op.create_table(
        'home_section_setting',
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('kind'),
    )
    op.create_table(
        'home_default_service',
        sa.Column('procedure_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('procedure_code'),
    )


def downgrade() -> None:
    op.drop_table('home_default_service')
    op.drop_table('home_section_setting')
    op.drop_index('ix_announcement_window', table_name='announcement')
    op.drop_table('announcement')
