"""Resumable attachments: `upload` (metadata only; the bytes live in the storage backend).

Revision ID: 0016_uploads
Revises: 0015_directory
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_uploads'
down_revision: str | None = '0015_directory'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'upload',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=43), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('dossier_id', sa.Integer(), nullable=True),
        sa.Column('attached_as', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('forward_job_id', sa.Integer(), nullable=True),
        sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id']),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_upload_citizen_id'), 'upload', ['citizen_id'], unique=False)
    op.create_index(op.f('ix_upload_dossier_id'), 'upload', ['dossier_id'], unique=False)
    op.create_index(op.f('ix_upload_expires_at'), 'upload', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_upload_expires_at'), table_name='upload')
    op.drop_index(op.f('ix_upload_dossier_id'), table_name='upload')
    op.drop_index(op.f('ix_upload_citizen_id'), table_name='upload')
    op.drop_table('upload')
