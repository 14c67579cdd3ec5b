"""Fees and payments: `procedure.fees` (the catalogue's fees and charges) and `payment` (one per payment request
of a dossier, with its gateway order and receipt).

Revision ID: 0019_payment
Revises: 0018_receipts
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0019_payment'
down_revision: str | None = '0018_receipts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch: SQLite's batch mode rebuilds the table, which drops the search index's
    # triggers (migration 0007) and leaves the catalogue search blind to later changes.
    op.add_column('procedure', sa.Column('fees', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.create_table(
        'payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('request_seq', sa.Integer(), nullable=False),
        sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('deadline', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('order_seq', sa.Integer(), nullable=False),
        sa.Column('order_reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('gateway_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('order_opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('paid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dossier_id', 'request_seq', name='uq_payment_request'),
        sa.UniqueConstraint('reference'),
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_status_opened', ['status', 'order_opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_dossier_id'), ['dossier_id'], unique=False)


def downgrade() -> None:
    op.drop_table('payment')
    op.drop_column('procedure', 'fees')  # SQLite 3.35+ drops a column in place, keeping the triggers
