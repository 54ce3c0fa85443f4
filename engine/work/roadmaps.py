"""Roadmap services: turning activities into occurrences for their assignees."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert
from sqlmodel import Session

from engine.lifecycle.definition import Lifecycle
from engine.models import Occurrence, utcnow


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
