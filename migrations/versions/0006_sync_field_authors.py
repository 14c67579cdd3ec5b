"""Drafts remember which install last changed each field (`field_authors`), so a device's own earlier
mutations are never merged against it as if another device had made them. Existing drafts get `{}`: their
fields count as changed by another install, which is what the server assumed before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field_authors', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('field_authors')
