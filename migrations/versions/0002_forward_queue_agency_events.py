"""Forward queue (forward_job), agency events (agency_event), dossier parts (dossier.parent_id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:19:44.769063
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agency_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('dossier_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service_code', 'event_id', name='uq_agency_event_id')
    )
    op.create_table('forward_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('agency_reference', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('forward_job', schema=None) as batch_op:
        batch_op.create_index('ix_forward_job_due', ['delivered_at', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dossier_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key('fk_dossier_parent_id', 'dossier', ['parent_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_constraint('fk_dossier_parent_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dossier_parent_id'))
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('forward_job', schema=None) as batch_op:
        batch_op.drop_index('ix_forward_job_due')

    op.drop_table('forward_job')
    op.drop_table('agency_event')
