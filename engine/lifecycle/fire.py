"""Firing triggers on occurrences and documents: one guarded UPDATE plus its log row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    select,
)
from sqlmodel import Session

from engine.accounts.access import Actor, actor_params
from engine.errors import (
    MAX_REPORT,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    check_length,
)
from engine.lifecycle.definition import Event, Party, Rule, SubjectKind, WorkflowRegistry
from engine.lifecycle.statements import (
    LOGGING,
    MOVING,
    OWNER,
    REPORTING,
    TABLES,
    notices_of,
    standing_query,
    write_at_once,
)
from engine.models import (
    utcnow,
)


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
    table = TABLES[kind]
    row = session.execute(
        select(
            table.id,
            table.state,
            table.version,
            table.workflow_name,
            table.workflow_version,
            OWNER[kind],
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
    refused = _refusal(rule, actor, ref, reviews)
    if refused:
        raise PermissionDeniedError(refused)
    comment = (comment or "").strip() or None
    check_length("comment", comment)
    check_length("written report", report_text, MAX_REPORT)
    if rule.requires_comment and comment is None:
        raise ValidationError(
            f"'{trigger}' requires a comment saying why", reason="comment_required"
        )
    context = GuardContext(session, kind, subject_id, actor, comment, report_text)
    dest = lifecycle.follow(rule, ref.state, context)

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
        "report_text": report,
        "owner_id": ref.owner_id,
        "created": now,
    }
    if connection.dialect.name == "postgresql":  # one round trip for every write
        written = write_at_once(kind, rule.notify, report is not None).run(connection, params)
        log_id = next(iter(written.first() or ()), None)
    else:
        moved = MOVING[kind].run(connection, params).rowcount == 1
        logged = LOGGING[kind].run(connection, params).first() if moved else None
        log_id = logged[0] if logged else None
        if log_id is not None and report is not None:
            REPORTING[kind].run(connection, params)
        if log_id is not None and rule.notify is not None:
            notices = notices_of(connection.dialect.name, rule.notify)
            notices.run(connection, {**params, "log_id": log_id})
    if log_id is None:
        raise ConflictError(f"{kind} {subject_id} was changed by someone else; reload and retry")
    _forget(session, kind, ref.id)
    return TransitionResult(kind, ref.id, trigger, ref.state, dest, ref.version + 1, log_id)


def _refusal(rule: Rule, actor: Actor, ref: SubjectRef, reviews: bool) -> str | None:
    """Why `actor`, who reaches the subject, may not fire `rule` on it; None if they may."""
    if actor.role not in rule.roles:
        allowed = ", ".join(sorted(rule.roles))
        return f"role '{actor.role}' may not fire '{rule.trigger}'; it is for: {allowed}"
    standing = {
        Party.ASSIGNEE: actor.organization_id == ref.owner_id,
        Party.REVIEWER: reviews,
        Party.SUPERVISOR: True,
    }
    if not standing[rule.party]:
        return (
            f"{actor.login} is not the {rule.party} of {ref.kind} {ref.id}; "
            f"'{rule.trigger}' is for its {rule.party}"
        )
    return None


def permitted_rules(
    session: Session, registry: WorkflowRegistry, kind: SubjectKind, subject_id: int, actor: Actor
) -> list[Rule]:
    """The rules `actor` may fire on the subject in its present state, by `fire`'s own checks:
    what a page offers is what would be allowed."""
    ref, reaches, reviews = read_standing(session.connection(), kind, subject_id, actor)
    if not reaches:
        return []
    definition = registry.get(ref.workflow_name, ref.workflow_version).definition
    rules = (definition.rule(trigger, ref.state) for trigger in definition.triggers_from(ref.state))
    return [rule for rule in rules if rule and _refusal(rule, actor, ref, reviews) is None]


def read_standing(
    connection: Connection, kind: SubjectKind, subject_id: int, actor: Actor
) -> tuple[SubjectRef, bool, bool]:
    """The subject as read before a change, whether `actor` reaches it and reviews it."""
    row = (
        standing_query(kind, actor.role, actor.organization_id is not None)
        .run(connection, {"subject_id": subject_id, **actor_params(actor)})
        .first()
    )
    if row is None:
        raise NotFoundError(f"{kind} {subject_id} does not exist")
    return SubjectRef(kind, *row[:6]), bool(row[6]), bool(row[7])


def _forget(session: Session, kind: SubjectKind, subject_id: int) -> None:
    """Expire the subject's object, if this session holds one: its row has just changed."""
    held = session.identity_map.get(session.identity_key(TABLES[kind], subject_id))
    if held is not None:
        session.expire(held)


def log_event(
    session: Session,
    subject: Any,
    event: Event,
    actor: Actor,
    comment: str,
    now: datetime,
    *,
    kind: SubjectKind = SubjectKind.OCCURRENCE,
) -> None:
    """A log row for something done to an occurrence (or a document: `kind`) that leaves its
    state as it is.

    It is written by the statement that logs every transition, so the audit row has one
    definition (`_log_values`)."""
    session.flush()  # the statement bypasses the ORM: pending changes must be in the rows
    params = {
        "subject_id": subject.id,
        "from_state": subject.state,
        "to_state": subject.state,
        "trigger": event.value,
        "actor_id": actor.id,
        "now": now,
        "comment": comment,
        "wf_name": subject.workflow_name,
        "wf_version": subject.workflow_version,
    }
    LOGGING[kind].run(session.connection(), params)
