"""Migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from engine.migrate import alembic_config, current_revision, head_revision


def test_migrated_schema_matches_the_models(db) -> None:
    with db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_indexes_for_sweep_lists_and_curators_exist(db) -> None:
    inspector = inspect(db)
    occurrence = {i["name"]: i["column_names"] for i in inspector.get_indexes("occurrence")}
    assert occurrence["ix_occurrence_state_due"] == ["state", "due_on"]
    assert occurrence["ix_occurrence_assignee_state"][:2] == ["assignee_id", "state"]
    curator = {i["name"]: i["column_names"] for i in inspector.get_indexes("curator_school")}
    assert curator["ix_curator_school_school"] == ["school_id"]
    assert inspector.get_pk_constraint("curator_school")["constrained_columns"] == [
        "curator_id",
        "school_id",
    ]


def test_downgrade_to_nothing_and_back(db, db_url) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    assert current_revision(db) is None
    assert "occurrence" not in inspect(db).get_table_names()
    command.upgrade(config, "head")
    assert current_revision(db) == head_revision() == "0015"
