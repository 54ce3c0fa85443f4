"""Importer: activities remember their part; occurrences whether their date was scheduled.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("part", sa.String(length=200), nullable=True))
    with op.batch_alter_table("occurrence") as batch:
        batch.add_column(
            sa.Column("scheduled", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("occurrence") as batch:
        batch.drop_column("scheduled")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("part")
