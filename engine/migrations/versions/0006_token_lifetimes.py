"""API tokens expire (90 days by default) and remember when they were last used.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as table:
        table.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True))
    # tokens issued before expiry existed get the default lifetime from their creation
    api_token = sa.table(
        "api_token",
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("expires_at", UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(api_token.c.created_at).distinct()).scalars().all()
    from datetime import timedelta

    for created in rows:
        bind.execute(
            api_token.update()
            .where(api_token.c.created_at == created)
            .values(expires_at=created + timedelta(days=90))
        )
    with op.batch_alter_table("api_token") as table:
        table.alter_column("expires_at", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token") as table:
        table.drop_column("last_used_at")
        table.drop_column("expires_at")
