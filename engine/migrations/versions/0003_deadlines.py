"""Deadlines: escalations, notifications (inbox and e-mail outbox), policies, calendar.

The notification table replaces outbox_message: a notification is written in the same
transaction as its cause and carries its own sent mark.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "escalation_policy_override",
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("workflow_name", sa.String(length=50), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("municipal_after_days", sa.Integer(), nullable=False),
        sa.Column("regional_after_days", sa.Integer(), nullable=False),
        sa.Column("review_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["municipality_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("municipality_id", "workflow_name"),
    )
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(occurrence_id IS NULL) <> (document_id IS NULL)", name="escalation_one_subject"
        ),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrence.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "kind", "level", "cycle", name="uq_escalation_doc"),
        sa.UniqueConstraint("occurrence_id", "kind", "level", "cycle", name="uq_escalation_occ"),
    )
    op.create_index("ix_escalation_open", "escalation", ["acknowledged_at", "kind", "level"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("transition_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
        sa.ForeignKeyConstraint(["transition_id"], ["transition_log.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notification_inbox", "notification", ["user_id", "read_at", "id"])
    op.create_index("ix_notification_unsent", "notification", ["emailed_at", "id"])
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
    op.drop_table("outbox_message")

    for table in ("occurrence", "document"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("state_changed_at", UTCDateTime(timezone=True)))
        op.execute(f"UPDATE {table} SET state_changed_at = updated_at")
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "state_changed_at", existing_type=UTCDateTime(timezone=True), nullable=False
            )
            batch.create_index(f"ix_{table}_state_changed", ["state", "state_changed_at"])
    with op.batch_alter_table("occurrence") as batch:
        batch.add_column(
            sa.Column("due_revision", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("escalation_held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_occurrence_escalation", ["state", "escalation_level", "due_on"])


def downgrade() -> None:
    with op.batch_alter_table("occurrence") as batch:
        batch.drop_index("ix_occurrence_escalation")
        batch.drop_column("escalation_held")
        batch.drop_column("due_revision")
    for table in ("occurrence", "document"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_state_changed")
            batch.drop_column("state_changed_at")
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_outbox_message_pending", "outbox_message", ["sent_at", "id"])
    op.drop_index("ix_notification_unsent", table_name="notification")
    op.drop_index("ix_notification_inbox", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_escalation_open", table_name="escalation")
    op.drop_table("escalation")
    op.drop_table("escalation_policy_override")
    op.drop_table("calendar_override")
