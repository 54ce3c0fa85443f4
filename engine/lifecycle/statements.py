"""The SQL of a transition, built and compiled once: the guarded UPDATE, the log row, the
written report and the notifications, and the read of the subject with the actor's standing.

`fire` (engine/lifecycle/fire.py) decides; these statements write. On PostgreSQL all the
writes go as one statement of data-modifying CTEs; elsewhere one after another.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    Update,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.sql.dml import Insert

from engine.accounts.access import standing_columns
from engine.db import Prepared
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.kinds import SUBJECTS
from engine.models import Comment, CommentKind, TransitionLog
from engine.notices.notify import transition_notices

TABLES = {kind: spec.table for kind, spec in SUBJECTS.items()}
OWNER = {kind: spec.owner for kind, spec in SUBJECTS.items()}
LINK_COLUMN = {kind: spec.link for kind, spec in SUBJECTS.items()}


@functools.cache
def standing_query(kind: SubjectKind, role: str, has_organization: bool) -> Prepared:
    """The subject's workflow columns and whether an actor of `role` reaches and reviews it."""
    table = TABLES[kind].__table__
    owner = OWNER[kind]
    reaches, reviews = standing_columns(role, has_organization, owner)
    query = select(
        table.c.id,
        table.c.state,
        table.c.version,
        table.c.workflow_name,
        table.c.workflow_version,
        owner,
        reaches.label("reaches"),
        reviews.label("reviews"),
    ).where(table.c.id == bindparam("subject_id"))
    return Prepared(query)


def _move(table: Table) -> Update:
    """The guarded UPDATE: it matches only while state and version are what was read."""
    return (
        update(table)
        .where(
            table.c.id == bindparam("subject_id"),
            table.c.state == bindparam("from_state"),
            table.c.version == bindparam("from_version"),
        )
        .values(
            state=bindparam("to_state"),
            version=bindparam("to_version"),
            updated_at=bindparam("now"),
            state_changed_at=bindparam("now"),
        )
    )


def _log_values(kind: SubjectKind) -> dict[str, Any]:
    """The log row of a transition, from the binds `fire` passes."""
    at = TransitionLog.__table__.c.at.type
    return {
        LINK_COLUMN[kind]: bindparam("subject_id", type_=Integer),
        "from_state": bindparam("from_state", type_=String),
        "to_state": bindparam("to_state", type_=String),
        "trigger": bindparam("trigger", type_=String),
        "actor_id": bindparam("actor_id", type_=Integer),
        "at": bindparam("now", type_=at),
        "comment": bindparam("comment", type_=String),
        "workflow_name": bindparam("wf_name", type_=String),
        "workflow_version": bindparam("wf_version", type_=Integer),
    }


def _report_values(kind: SubjectKind) -> dict[str, Any]:
    """The written report that travels with a transition, from the same binds."""
    return {
        LINK_COLUMN[kind]: bindparam("subject_id", type_=Integer),
        "author_id": bindparam("actor_id", type_=Integer),
        "kind": literal(CommentKind.REPORT.value, String),
        "body": bindparam("report_text", type_=String),
        "created_at": bindparam("now", type_=Comment.__table__.c.created_at.type),
    }


@functools.cache
def notices_of(dialect: str, party: str) -> Prepared:
    return Prepared(transition_notices(dialect, party, bindparam("log_id", type_=Integer)))


@functools.cache
def write_at_once(kind: SubjectKind, notify: str | None, with_report: bool) -> Prepared:
    """PostgreSQL: the guarded UPDATE, the log row, the report and the notifications as one
    statement of data-modifying CTEs. It returns the log row's id, or no row when the UPDATE
    found the subject changed; then nothing is written."""
    subject = TABLES[kind].__table__
    moved = _MOVE[kind].returning(subject.c.id).cte("moved")

    def after_move(table: Table, values: dict[str, Any]) -> Insert:
        columns = {k: moved.c.id if k == LINK_COLUMN[kind] else v for k, v in values.items()}
        return insert(table).from_select(list(columns), select(*columns.values()))

    log = TransitionLog.__table__
    logged = after_move(log, _log_values(kind)).returning(log.c.id).cte("logged")
    parts = []
    if with_report:
        parts.append(after_move(Comment.__table__, _report_values(kind)).cte("report_written"))
    if notify is not None:
        log_id = select(logged.c.id).scalar_subquery()
        parts.append(transition_notices("postgresql", notify, log_id).cte("notified"))
    return Prepared(select(logged.c.id).add_cte(*parts))


_MOVE = {kind: _move(table.__table__) for kind, table in TABLES.items()}
_LOG = {
    kind: insert(TransitionLog.__table__)
    .values(_log_values(kind))
    .returning(TransitionLog.__table__.c.id)
    for kind in SubjectKind
}
_COMMENT = {kind: insert(Comment.__table__).values(_report_values(kind)) for kind in SubjectKind}
MOVING = {kind: Prepared(statement) for kind, statement in _MOVE.items()}
LOGGING = {kind: Prepared(statement) for kind, statement in _LOG.items()}
REPORTING = {kind: Prepared(statement) for kind, statement in _COMMENT.items()}
