"""Roadmap imports queued as jobs, run outside the request that uploaded them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("stored_as", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=True),
        sa.Column("occurrences_added", sa.Integer(), nullable=True),
        sa.Column("roadmap_id", sa.Integer(), sa.ForeignKey("roadmap.id"), nullable=True),
        sa.Column("created", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_job_status", "import_job", ["status", "id"])
    op.create_index("ix_import_job_owner", "import_job", ["owner_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_import_job_owner", table_name="import_job")
    op.drop_index("ix_import_job_status", table_name="import_job")
    op.drop_table("import_job")
