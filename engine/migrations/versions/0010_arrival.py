"""Work that arrives past due: the date an occurrence's schedule gave (its due date may move),
and what an import job does with past-due work.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("occurrence") as batch:
        batch.add_column(sa.Column("scheduled_on", sa.Date(), nullable=True))
    op.execute("UPDATE occurrence SET scheduled_on = due_on WHERE scheduled")
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("past_due", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("past_due_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_job") as batch:
        batch.drop_column("past_due_on")
        batch.drop_column("past_due")
    with op.batch_alter_table("occurrence") as batch:
        batch.drop_column("scheduled_on")
