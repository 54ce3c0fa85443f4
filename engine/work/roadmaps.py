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
    held: bool = False,
    moved_to: date | None = None,
) -> int:
    """Insert one occurrence per assignee and due date, in one statement; return the count.

    `held`: no escalation for them (work that was past due on arrival, kept as history).
    `moved_to`: the due date instead of the schedule's (one date: work moved on arrival).
    """
    now = utcnow()
    definition = lifecycle.definition
    dates = list(due_dates)
    rows = [
        {
            "activity_id": activity_id,
            "assignee_id": assignee_id,
            "due_on": moved_to or due_on,
            "scheduled_on": due_on if scheduled else None,
            "scheduled": scheduled,
            "state": definition.initial,
            "version": 1,
            "escalation_level": 0,
            "escalation_held": held,
            "history": held,
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
