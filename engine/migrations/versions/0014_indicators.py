"""Target indicators of a roadmap: from its list of «целевые показатели» and from planned
results that state a number.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "indicator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("roadmap_id", sa.Integer(), sa.ForeignKey("roadmap.id"), nullable=False),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("due", JSON, nullable=False),
        sa.Column("due_text", sa.Text(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_indicator_roadmap", "indicator", ["roadmap_id", "position"])
    op.create_index("ix_indicator_activity", "indicator", ["activity_id"])


def downgrade() -> None:
    op.drop_index("ix_indicator_activity", table_name="indicator")
    op.drop_index("ix_indicator_roadmap", table_name="indicator")
    op.drop_table("indicator")
