"""Agency-signed documents in the wallet: the signed form, the signature, its key and the verification.

Revision ID: 0020_wallet
Revises: 0019_payment
Create Date: 2026-12-06 03:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0020_wallet'
down_revision: str | None = '0019_payment'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('valid_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('signed_payload', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch.add_column(sa.Column('signing_kid', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch.add_column(sa.Column('verification', sqlmodel.sql.sqltypes.AutoString(length=16),
                                   server_default='UNSIGNED', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('document') as batch:
        batch.drop_column('verification')
        batch.drop_column('signing_kid')
        batch.drop_column('signature')
        batch.drop_column('signed_payload')
        batch.drop_column('valid_from')
