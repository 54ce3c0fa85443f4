"""The reviewer's verdicts: approve one subject, or many at once, each checked on its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from engine.accounts.access import Actor
from engine.app import App
from engine.db import as_id
from engine.errors import DomainError, InvalidTransitionError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.lifecycle.fire import TransitionResult, fire, load_subject
from engine.models import ReviewView, utcnow


def approve(
    app: App, session: Session, actor: Actor, kind: SubjectKind, subject_id: int
) -> TransitionResult:
    """Fire the rule that takes the subject from where it is into its done phase."""
    ref = load_subject(session, kind, subject_id)
    definition = app.registry.get(ref.workflow_name, ref.workflow_version).definition
    rule = definition.rule_into(ref.state, Phase.DONE)
    if rule is None:
        raise InvalidTransitionError(Phase.DONE.key, ref.state, definition.triggers_from(ref.state))
    return fire(session, app.registry, kind, subject_id, rule.trigger, actor, now=app.clock())


@dataclass
class BulkResult:
    """What a bulk approval did: how many were approved, and why the others were not."""

    approved: int = 0
    refused: list[tuple[str, DomainError]] = field(default_factory=list)


def approve_many(app: App, actor: Actor, items: list[str]) -> BulkResult:
    """Approve each `kind:id` item in its own transaction; malformed items are skipped."""
    result = BulkResult()
    kinds = {kind.value: kind for kind in SubjectKind}
    for item in items:
        kind, _, raw_id = item.partition(":")
        subject_id = as_id(raw_id)
        if kind not in kinds or subject_id is None:
            continue
        try:
            with app.work() as session:
                approve(app, session, actor, kinds[kind], subject_id)
            result.approved += 1
        except DomainError as error:
            result.refused.append((raw_id, error))
    return result


def mark_opened(session: Session, actor: Actor, kind: SubjectKind, subject_id: int) -> None:
    """Record that the reviewer opened the item now (once per user and item, the last time)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ReviewView)
    now = utcnow()
    statement = insert.values(
        user_id=actor.id, subject_kind=kind.value, subject_id=subject_id, opened_at=now
    ).on_conflict_do_update(
        index_elements=["user_id", "subject_kind", "subject_id"], set_={"opened_at": now}
    )
    session.execute(statement)
