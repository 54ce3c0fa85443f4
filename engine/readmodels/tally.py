"""The progress tally: occurrences counted per assignee, roadmap, section, state and where
the due date lies against one day, so that a region's dashboard adds up tens of thousands of
rows instead of a million occurrences. Triggers keep it current (migration 0013); a change
they cannot follow (an activity moved to another section, a school to another municipality)
and a new day leave it without a day until `refresh` rebuilds it. Until then the dashboards
count the occurrences themselves: the figures are the same either way."""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, select, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, Role, scope_clause
from engine.app import App
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import (
    ROLLUP_SLOTS,
    Activity,
    Occurrence,
    Organization,
    OrganizationKind,
    ProgressRollup,
    ProgressTally,
    ProgressTallyDay,
)
from engine.readmodels.worklist import WorkFilter

#: Roles whose territory is made of whole municipalities: the rollup can answer for them.
WHOLE_MUNICIPALITIES = (Role.ADMIN, Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR)

#: Either table: both have the columns the figures and clauses read.
Counts = type[ProgressTally] | type[ProgressRollup]


class DueBucket(IntEnum):
    """Where an occurrence's due date lies against the tally's day."""

    PAST = 0
    TODAY = 1
    FUTURE = 2
    UNDATED = 3


def tally_day(session: Session) -> date | None:
    """The day the tally counts against, or None while it waits for a rebuild."""
    return session.execute(
        select(ProgressTallyDay.as_of).where(ProgressTallyDay.id == 1)
    ).scalar_one_or_none()


def holds(session: Session, today: date, narrow: WorkFilter) -> bool:
    """Whether the tally can answer for `narrow` today: it is current and counts by day
    relative to today, so a period of due dates needs the occurrences themselves."""
    return narrow.due_from is None and narrow.due_to is None and tally_day(session) == today


def refresh(session: Session, today: date) -> bool:
    """Rebuild the tally as of `today` unless it is current already; whether it was rebuilt.

    On PostgreSQL the occurrences are locked against writes for the rebuild (about a second
    at a million), so that no transition counted by a trigger is counted twice or lost."""
    if tally_day(session) == today:
        return False
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE occurrence IN SHARE MODE"))
    owner = aliased(Organization)
    bucket = case(
        (Occurrence.due_on.is_(None), DueBucket.UNDATED.value),
        (Occurrence.due_on < today, DueBucket.PAST.value),
        (Occurrence.due_on == today, DueBucket.TODAY.value),
        else_=DueBucket.FUTURE.value,
    )
    section = func.coalesce(Activity.section_id, 0)
    municipality = case((owner.kind == OrganizationKind.SCHOOL, owner.parent_id), else_=owner.id)
    counted = (
        select(
            Occurrence.assignee_id,
            Activity.roadmap_id,
            section,
            Occurrence.state,
            Occurrence.history,
            bucket,
            municipality,
            func.count(),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(owner, owner.id == Occurrence.assignee_id)
        .group_by(
            Occurrence.assignee_id,
            Activity.roadmap_id,
            section,
            Occurrence.state,
            Occurrence.history,
            bucket,
            municipality,
        )
    )
    session.execute(delete(ProgressTally))
    session.execute(delete(ProgressRollup))
    session.execute(
        insert(ProgressTally).from_select(
            [
                "assignee_id",
                "roadmap_id",
                "section_key",
                "state",
                "history",
                "due",
                "municipality_id",
                "n",
            ],
            counted,
        )
    )
    t = ProgressTally
    slot = t.assignee_id % ROLLUP_SLOTS
    rolled = [t.municipality_id, t.roadmap_id, t.section_key, t.state, t.history, t.due, slot]
    session.execute(
        insert(ProgressRollup).from_select(
            [*(c.key for c in rolled[:-1]), "slot", "n"],
            select(*rolled, func.sum(t.n)).group_by(*rolled),
        )
    )
    if session.execute(update(ProgressTallyDay).values(as_of=today)).rowcount == 0:
        session.execute(insert(ProgressTallyDay).values(id=1, as_of=today))
    return True


def rolls_up(actor: Actor) -> bool:
    """Whether the rollup can answer for `actor`: their territory is whole municipalities."""
    return actor.role in WHOLE_MUNICIPALITIES


def scope(actor: Actor, t: Counts) -> Any:
    """`scope_clause` on tally or rollup rows: by municipality where the territory allows
    (the index's column, and the only one the rollup has), else by assignee."""
    if rolls_up(actor):
        return scope_clause(actor, t.municipality_id)
    assert t is ProgressTally, "the rollup answers only for whole municipalities"
    return scope_clause(actor, ProgressTally.assignee_id)


def figures(app: App, t: Counts = ProgressTally) -> list[Any]:
    """The dashboard's six figures (as in `progress._figures`), summed over tally or
    rollup rows."""
    done = t.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.DONE))
    under_review = t.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.UNDER_REVIEW))
    is_open = t.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.OPEN))
    is_due = t.due.in_((DueBucket.PAST.value, DueBucket.TODAY.value))
    overdue = and_(is_open, t.due == DueBucket.PAST.value, t.history.is_(False))

    def count(where: Any) -> Any:
        return func.sum(case((where, t.n), else_=literal(0)))

    return [
        func.sum(t.n),
        count(done),
        count(under_review),
        count(overdue),
        count(is_due),
        count(and_(done, is_due)),
    ]


def clauses(app: App, narrow: WorkFilter, t: Counts = ProgressTally) -> list[Any]:
    """`narrow`'s WHERE clauses on tally or rollup rows (which `holds` must allow), empty
    rows left out."""
    where: list[Any] = [t.n > 0]
    if narrow.roadmap_id is not None:
        where.append(t.roadmap_id == narrow.roadmap_id)
    if narrow.municipality_id is not None:
        where.append(t.municipality_id == narrow.municipality_id)
    if narrow.phase is not None:
        where.append(t.state.in_(app.states(SubjectKind.OCCURRENCE, narrow.phase)))
    if narrow.active_only:
        where.append(~t.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.CANCELLED)))
    return where
