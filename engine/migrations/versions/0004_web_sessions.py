"""Web sessions: a per-user session token that sign-out rotates, and a per-user time zone.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=64)))
        batch.add_column(sa.Column("timezone", sa.String(length=64)))
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT id FROM app_user")).scalars().all()
    for user_id in users:
        connection.execute(
            sa.text("UPDATE app_user SET session_token = :t WHERE id = :id"),
            {"t": secrets.token_hex(16), "id": user_id},
        )
    with op.batch_alter_table("app_user") as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("timezone")
        batch.drop_column("session_token")
