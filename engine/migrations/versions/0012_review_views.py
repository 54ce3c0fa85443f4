"""The curator's desk: when a reviewer last opened an item of their queue; the escalation
board's view of what was dealt with, latest first.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_view",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), primary_key=True),
        sa.Column("subject_kind", sa.String(length=20), primary_key=True),
        sa.Column("subject_id", sa.Integer(), primary_key=True),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_escalation_created", "escalation", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_escalation_created", table_name="escalation")
    op.drop_table("review_view")
