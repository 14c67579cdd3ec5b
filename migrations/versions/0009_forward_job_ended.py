"""Forward outcomes: a forward job can end without being delivered (the agency refused it with a 4xx, or an
operator gave up on it with `superapp forward give-up`); `ended_at` says when, `last_error` why.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('forward_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('forward_job', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
