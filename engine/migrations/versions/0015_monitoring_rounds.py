"""Monitoring rounds: a window in which participants report indicator values and answer a
survey; each participant's submission moves through a lifecycle and is evidenced, commented,
logged and escalated like an occurrence.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)

_TWO = "(occurrence_id IS NULL) <> (document_id IS NULL)"
_THREE = (
    "(CASE WHEN occurrence_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN document_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN submission_id IS NULL THEN 0 ELSE 1 END) = 1"
)
#: table, its one-subject check, the index on its link (and what follows it)
_LINKED = (
    ("evidence", "evidence_one_subject", ["submission_id"]),
    ("comment", "comment_one_subject", ["submission_id"]),
    ("transition_log", "transition_log_one_subject", ["submission_id", "id"]),
    ("escalation", "escalation_one_subject", None),
)


#: The append-only audit tables (0001). On SQLite a batch rebuilds a table without its
#: triggers, so they are made again after it.
_AUDIT = ("transition_log", "comment", "evidence")


def _protect_again() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL alters the tables in place: their triggers stay
    for table in _AUDIT:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def upgrade() -> None:
    op.create_table(
        "monitoring_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("roadmap_id", sa.Integer(), sa.ForeignKey("roadmap.id"), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index("ix_monitoring_round_roadmap", "monitoring_round", ["roadmap_id", "opens_on"])
    op.create_table(
        "round_indicator",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("monitoring_round.id"), primary_key=True),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "round_question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("monitoring_round.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", JSON, nullable=False),
    )
    op.create_index("ix_round_question_round", "round_question", ["round_id", "position"])
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("monitoring_round.id"), nullable=False),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalation_held", sa.Boolean(), nullable=False),
        sa.Column("workflow_name", sa.String(length=50), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("state_changed_at", UTC, nullable=False),
        sa.UniqueConstraint("round_id", "assignee_id", name="uq_submission_round_assignee"),
    )
    op.create_index("ix_submission_assignee_state", "submission", ["assignee_id", "state"])
    op.create_index(
        "ix_submission_escalation", "submission", ["state", "escalation_level", "due_on"]
    )
    op.create_index("ix_submission_state_changed", "submission", ["state", "state_changed_at"])
    op.create_table(
        "submission_value",
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submission.id"), primary_key=True),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_submission_value_indicator", "submission_value", ["indicator_id"])
    op.create_table(
        "survey_answer",
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submission.id"), primary_key=True),
        sa.Column(
            "question_id", sa.Integer(), sa.ForeignKey("round_question.id"), primary_key=True
        ),
        sa.Column("answer", JSON, nullable=False),
    )
    op.create_index("ix_survey_answer_question", "survey_answer", ["question_id"])
    for table, check, index in _LINKED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                f"fk_{table}_submission", "submission", ["submission_id"], ["id"]
            )
            batch.drop_constraint(check, type_="check")
            batch.create_check_constraint(check, _THREE)
            if index is not None:
                batch.create_index(f"ix_{table}_submission", index)
            else:
                batch.create_unique_constraint(
                    "uq_escalation_sub", ["submission_id", "kind", "level", "cycle"]
                )
    _protect_again()


def downgrade() -> None:
    for table, check, index in reversed(_LINKED):
        with op.batch_alter_table(table) as batch:
            if index is not None:
                batch.drop_index(f"ix_{table}_submission")
            else:
                batch.drop_constraint("uq_escalation_sub", type_="unique")
            batch.drop_constraint(check, type_="check")
            batch.create_check_constraint(check, _TWO)
            batch.drop_constraint(f"fk_{table}_submission", type_="foreignkey")
            batch.drop_column("submission_id")
    _protect_again()
    op.drop_index("ix_survey_answer_question", table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index("ix_submission_value_indicator", table_name="submission_value")
    op.drop_table("submission_value")
    for name in (
        "ix_submission_state_changed",
        "ix_submission_escalation",
        "ix_submission_assignee_state",
    ):
        op.drop_index(name, table_name="submission")
    op.drop_table("submission")
    op.drop_index("ix_round_question_round", table_name="round_question")
    op.drop_table("round_question")
    op.drop_table("round_indicator")
    op.drop_index("ix_monitoring_round_roadmap", table_name="monitoring_round")
    op.drop_table("monitoring_round")
