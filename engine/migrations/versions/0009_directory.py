"""The directory and its people: what the ministry's spreadsheet says of a school, one-time
links to set a password, and the administrative log (append-only, like the transition log).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import JSONType, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("short_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("inn", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("programme", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("programme_year", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_organization_inn", ["inn"])
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invitation_user", "invitation", ["user_id"])
    op.create_index("ix_app_user_email", "app_user", ["email"])
    op.create_index("ix_app_user_role_name", "app_user", ["role", "full_name", "id"])
    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_login", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("before", JSONType, nullable=True),
        sa.Column("after", JSONType, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_log_subject", "admin_log", ["subject", "subject_id", "id"])
    if op.get_bind().dialect.name == "postgresql":  # the function is 0001's
        op.execute(
            "CREATE TRIGGER admin_log_append_only BEFORE UPDATE OR DELETE ON admin_log "
            "FOR EACH ROW EXECUTE FUNCTION roadmap_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER admin_log_no_{action.lower()} BEFORE {action} ON admin_log "
                f"BEGIN SELECT RAISE(ABORT, 'admin_log is append-only: {action} refused'); END"
            )


def downgrade() -> None:
    op.drop_index("ix_admin_log_subject", table_name="admin_log")
    op.drop_table("admin_log")  # its triggers go with it
    op.drop_index("ix_app_user_role_name", table_name="app_user")
    op.drop_index("ix_app_user_email", table_name="app_user")
    op.drop_index("ix_invitation_user", table_name="invitation")
    op.drop_table("invitation")
    with op.batch_alter_table("organization") as batch:
        batch.drop_constraint("uq_organization_inn", type_="unique")
        for column in ("archived_at", "programme_year", "programme", "email", "inn", "short_name"):
            batch.drop_column(column)
