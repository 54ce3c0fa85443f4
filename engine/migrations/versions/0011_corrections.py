"""Correcting a roadmap: the log of changes after import, the preview's corrections that a
queued import applies, and which occurrences arrived past due as history.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "activity_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("roadmap_id", sa.Integer(), sa.ForeignKey("roadmap.id"), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
    )
    op.create_index("ix_activity_change_roadmap", "activity_change", ["roadmap_id", "id"])
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("corrections", JSON, nullable=True))
    with op.batch_alter_table("occurrence") as batch:
        batch.add_column(
            sa.Column("history", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(  # held with no escalation ever raised: it arrived as history (0010)
        "UPDATE occurrence SET history = escalation_held AND NOT EXISTS "
        "(SELECT 1 FROM escalation WHERE escalation.occurrence_id = occurrence.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("occurrence") as batch:
        batch.drop_column("history")
    with op.batch_alter_table("import_job") as batch:
        batch.drop_column("corrections")
    op.drop_index("ix_activity_change_roadmap", table_name="activity_change")
    op.drop_table("activity_change")
