"""Agencies that services declare: their level, and which service owns them (None: the national catalogue),
so a service may rename its own agency but never another's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('owner_service', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('owner_service')
        batch_op.drop_column('level')
