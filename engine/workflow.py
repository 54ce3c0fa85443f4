"""Firing triggers on occurrences and documents: one guarded UPDATE plus its log row."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
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
from sqlmodel import Session

from engine.access import Actor, actor_params, standing_columns
from engine.db import Prepared
from engine.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from engine.lifecycle import Event, Party, SubjectKind, WorkflowRegistry
from engine.models import (
    Comment,
    CommentKind,
    Document,
    Occurrence,
    TransitionLog,
    utcnow,
)
from engine.notifications import transition_notices

_TABLES = {SubjectKind.OCCURRENCE: Occurrence, SubjectKind.DOCUMENT: Document}
_OWNER = {SubjectKind.OCCURRENCE: Occurrence.assignee_id, SubjectKind.DOCUMENT: Document.school_id}
LINK_COLUMN = {SubjectKind.OCCURRENCE: "occurrence_id", SubjectKind.DOCUMENT: "document_id"}


@dataclass(frozen=True)
class GuardContext:
    """What a guard may look at while a trigger is being fired."""

    session: Session
    subject: SubjectKind
    subject_id: int
    actor: Actor
    comment: str | None
    report_text: str | None


@dataclass(frozen=True)
class SubjectRef:
    """The workflow columns of one occurrence or document, as read before a change."""

    kind: SubjectKind
    id: int
    state: str
    version: int
    workflow_name: str
    workflow_version: int
    owner_id: int


@dataclass(frozen=True)
class TransitionResult:
    """What one successful transition did."""

    subject: SubjectKind
    subject_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    log_id: int


def load_subject(session: Session, kind: SubjectKind, subject_id: int) -> SubjectRef:
    """Read the workflow columns of one subject, or NotFoundError."""
    table = _TABLES[kind]
    row = session.execute(
        select(
            table.id,
            table.state,
            table.version,
            table.workflow_name,
            table.workflow_version,
            _OWNER[kind],
        ).where(table.id == subject_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"{kind} {subject_id} does not exist")
    return SubjectRef(kind, *row)


def fire(
    session: Session,
    registry: WorkflowRegistry,
    kind: SubjectKind,
    subject_id: int,
    trigger: str,
    actor: Actor,
    *,
    comment: str | None = None,
    report_text: str | None = None,
    now: datetime | None = None,
) -> TransitionResult:
    """Fire `trigger` on one subject as `actor`, inside the caller's transaction.

    The state changes only through `UPDATE … WHERE id, state, version` match what was read,
    so of two concurrent firings the database lets one win and the other gets ConflictError.
    The log row and the notifications are written in the same transaction. Never commits.
    Every statement here is built once and compiled once: one SELECT reads the subject with
    the actor's standing towards it, then the UPDATE, the log row and the notifications.
    """
    now = now or utcnow()
    session.flush()  # statements below bypass the ORM: pending objects must be in the rows
    connection = session.connection()
    ref, reaches, reviews = read_standing(connection, kind, subject_id, actor)
    if not reaches:
        raise PermissionDeniedError(
            f"{actor.login} may not act on {kind} {subject_id}: outside their schools"
        )
    lifecycle = registry.get(ref.workflow_name, ref.workflow_version)
    definition = lifecycle.definition
    rule = definition.rule(trigger, ref.state)
    if rule is None:
        raise InvalidTransitionError(trigger, ref.state, definition.triggers_from(ref.state))
    if actor.role not in rule.roles:
        allowed = ", ".join(sorted(rule.roles))
        raise PermissionDeniedError(
            f"role '{actor.role}' may not fire '{trigger}'; it is for: {allowed}"
        )
    standing = {
        Party.ASSIGNEE: actor.organization_id == ref.owner_id,
        Party.REVIEWER: reviews,
        Party.SUPERVISOR: reaches,
    }
    if not standing[rule.party]:
        raise PermissionDeniedError(
            f"{actor.login} is not the {rule.party} of {kind} {subject_id}; '{trigger}' is for "
            f"its {rule.party}"
        )
    comment = (comment or "").strip() or None
    if rule.requires_comment and comment is None:
        raise ValidationError(
            f"'{trigger}' requires a comment saying why", reason="comment_required"
        )
    context = GuardContext(session, kind, subject_id, actor, comment, report_text)
    dest = lifecycle.advance(ref.state, trigger, context)

    report = (report_text or "").strip() or None
    # Bind names differ from the tables' column names ("wf_name", not "workflow_name"): run
    # through SQLAlchemy, a parameter named like a column of an UPDATE is SET.
    params = {
        "subject_id": ref.id,
        "from_state": ref.state,
        "from_version": ref.version,
        "to_state": dest,
        "to_version": ref.version + 1,
        "now": now,
        "trigger": trigger,
        "actor_id": actor.id,
        "comment": comment,
        "wf_name": ref.workflow_name,
        "wf_version": ref.workflow_version,
        "report": report,
        "owner_id": ref.owner_id,
        "created": now,
    }
    if connection.dialect.name == "postgresql":  # one round trip for every write
        written = _write_at_once(kind, rule.notify, report is not None).run(connection, params)
        log_id = next(iter(written.first() or ()), None)
    else:
        moved = _MOVING[kind].run(connection, params).rowcount == 1
        logged = _LOGGING[kind].run(connection, params).first() if moved else None
        log_id = logged[0] if logged else None
        if log_id is not None and report is not None:
            _REPORTING[kind].run(connection, params)
        if log_id is not None and rule.notify is not None:
            notices = _notices(connection.dialect.name, rule.notify)
            notices.run(connection, {**params, "log_id": log_id})
    if log_id is None:
        raise ConflictError(f"{kind} {subject_id} was changed by someone else; reload and retry")
    _forget(session, kind, ref.id)
    return TransitionResult(kind, ref.id, trigger, ref.state, dest, ref.version + 1, log_id)


def read_standing(
    connection: Connection, kind: SubjectKind, subject_id: int, actor: Actor
) -> tuple[SubjectRef, bool, bool]:
    """The subject as read before a change, whether `actor` reaches it and reviews it."""
    row = (
        _standing_query(kind, actor.role, actor.organization_id is not None)
        .run(connection, {"subject_id": subject_id, **actor_params(actor)})
        .first()
    )
    if row is None:
        raise NotFoundError(f"{kind} {subject_id} does not exist")
    return SubjectRef(kind, *row[:6]), bool(row[6]), bool(row[7])


@functools.cache
def _standing_query(kind: SubjectKind, role: str, has_organization: bool) -> Prepared:
    """The subject's workflow columns and whether an actor of `role` reaches and reviews it."""
    table = _TABLES[kind].__table__
    owner = _OWNER[kind]
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
        "body": bindparam("report", type_=String),
        "created_at": bindparam("now", type_=Comment.__table__.c.created_at.type),
    }


@functools.cache
def _notices(dialect: str, party: str) -> Prepared:
    return Prepared(transition_notices(dialect, party, bindparam("log_id", type_=Integer)))


@functools.cache
def _write_at_once(kind: SubjectKind, notify: str | None, with_report: bool) -> Prepared:
    """PostgreSQL: the guarded UPDATE, the log row, the report and the notifications as one
    statement of data-modifying CTEs. It returns the log row's id, or no row when the UPDATE
    found the subject changed; then nothing is written."""
    subject = _TABLES[kind].__table__
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


_MOVE = {kind: _move(table.__table__) for kind, table in _TABLES.items()}
_LOG = {
    kind: insert(TransitionLog.__table__)
    .values(_log_values(kind))
    .returning(TransitionLog.__table__.c.id)
    for kind in SubjectKind
}
_COMMENT = {kind: insert(Comment.__table__).values(_report_values(kind)) for kind in SubjectKind}
_MOVING = {kind: Prepared(statement) for kind, statement in _MOVE.items()}
_LOGGING = {kind: Prepared(statement) for kind, statement in _LOG.items()}
_REPORTING = {kind: Prepared(statement) for kind, statement in _COMMENT.items()}


def _forget(session: Session, kind: SubjectKind, subject_id: int) -> None:
    """Expire the subject's object, if this session holds one: its row has just changed."""
    held = session.identity_map.get(session.identity_key(_TABLES[kind], subject_id))
    if held is not None:
        session.expire(held)


def log_event(
    session: Session,
    occurrence: Occurrence,
    event: Event,
    actor: Actor,
    comment: str,
    now: datetime,
) -> None:
    """A log row for something done to an occurrence that leaves its state as it is."""
    session.execute(
        insert(TransitionLog).values(
            occurrence_id=occurrence.id,
            from_state=occurrence.state,
            to_state=occurrence.state,
            trigger=event.value,
            actor_id=actor.id,
            at=now,
            comment=comment,
            workflow_name=occurrence.workflow_name,
            workflow_version=occurrence.workflow_version,
        )
    )
