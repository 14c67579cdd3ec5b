"""Agency events keep a fingerprint of their content: a reused event id with other content is a conflict.

Rows recorded before have none (NULL); they are compared on the dossier and status they kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('agency_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agency_event', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
