"""Dossier ratings: `dossier_rating`, one row per rated dossier (receipts themselves are recomputed, not stored).

Revision ID: 0018_receipts
Revises: 0017_versions
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018_receipts'
down_revision: str | None = '0017_versions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'dossier_rating',
        sa.Column('dossier_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('procedure_id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('stars', sa.Integer(), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column('client_mutation_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('rated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
        sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], ),
        sa.PrimaryKeyConstraint('dossier_id'),
    )
    op.create_index('ix_dossier_rating_procedure', 'dossier_rating', ['procedure_id'], unique=False)
    op.create_index('ix_dossier_rating_agency', 'dossier_rating', ['agency_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dossier_rating_agency', table_name='dossier_rating')
    op.drop_index('ix_dossier_rating_procedure', table_name='dossier_rating')
    op.drop_table('dossier_rating')
