"""Forward actions: a dossier's withdrawal and supplements travel to its agency through forward_job.

forward_job gains `action` (existing rows are submissions: server default "submit") and `payload`, and
loses the one-job-per-dossier unique constraint (a dossier now owes its agency several messages, delivered
in id order, hence the (dossier_id, id) index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0002 left the unique constraint on forward_job.dossier_id unnamed: PostgreSQL named it itself, SQLite
# keeps it anonymous, so batch mode (which rebuilds the SQLite table) is told what to call it.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name() -> str:
    return 'forward_job_dossier_id_key' if op.get_bind().dialect.name == 'postgresql' else 'uq_forward_job_dossier_id'


def upgrade() -> None:
    name = _unique_name()
    with op.batch_alter_table('forward_job', schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.add_column(sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='submit'))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.drop_constraint(name, type_='unique')
        batch_op.create_index('ix_forward_job_dossier', ['dossier_id', 'id'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM forward_job WHERE action <> 'submit'")
    name = _unique_name()
    with op.batch_alter_table('forward_job', schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_index('ix_forward_job_dossier')
        batch_op.create_unique_constraint(name, ['dossier_id'])
        batch_op.drop_column('payload')
        batch_op.drop_column('action')
