"""Roadmap services: turning activities into occurrences for their assignees."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, select, update
from sqlmodel import Session

from engine.access import Actor, require_reach
from engine.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from engine.lifecycle import Lifecycle
from engine.models import Occurrence, Roadmap, RoadmapStatus, Role, utcnow


def add_occurrences(
    session: Session,
    lifecycle: Lifecycle,
    activity_id: int,
    assignee_ids: Iterable[int],
    due_dates: Iterable[date | None],
    *,
    scheduled: bool = True,
) -> int:
    """Insert one occurrence per assignee and due date, in one statement; return the count."""
    now = utcnow()
    definition = lifecycle.definition
    dates = list(due_dates)
    rows = [
        {
            "activity_id": activity_id,
            "assignee_id": assignee_id,
            "due_on": due_on,
            "scheduled": scheduled,
            "state": definition.initial,
            "version": 1,
            "escalation_level": 0,
            "workflow_name": definition.name,
            "workflow_version": definition.version,
            "created_at": now,
            "updated_at": now,
        }
        for assignee_id in assignee_ids
        for due_on in dates
    ]
    if rows:
        session.execute(insert(Occurrence), rows)
    return len(rows)


#: A roadmap's own status moves one way: approved plans become active, then closed.
ROADMAP_MOVES = {
    RoadmapStatus.DRAFT: RoadmapStatus.ACTIVE,
    RoadmapStatus.ACTIVE: RoadmapStatus.CLOSED,
}
ROADMAP_EDITORS = frozenset({Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR, Role.ADMIN})


def advance_roadmap(session: Session, actor: Actor, roadmap_id: int) -> RoadmapStatus:
    """Move a roadmap draft → active or active → closed, guarded like any transition."""
    row = session.execute(
        select(Roadmap.status, Roadmap.owner_id).where(Roadmap.id == roadmap_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_reach(session, actor, row.owner_id, f"roadmap {roadmap_id}")
    if actor.role not in ROADMAP_EDITORS:
        raise PermissionDeniedError(f"role '{actor.role}' may not change a roadmap's status")
    target = ROADMAP_MOVES.get(RoadmapStatus(row.status))
    if target is None:
        raise ValidationError(f"roadmap {roadmap_id} is '{row.status}' and cannot move further")
    changed = session.execute(
        update(Roadmap)
        .where(Roadmap.id == roadmap_id, Roadmap.status == row.status)
        .values(status=target)
    )
    if changed.rowcount != 1:
        raise ConflictError(f"roadmap {roadmap_id} was changed by someone else")
    return target
