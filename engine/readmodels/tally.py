"""The progress tally: occurrences counted per assignee, roadmap, section, state and where
the due date lies against one day, so that a region's dashboard adds up tens of thousands of
rows instead of a million occurrences. Triggers keep it current (migration 0013); a change
they cannot follow (an activity moved to another section, a school to another municipality)
and a new day leave it without a day until `refresh` rebuilds it. Until then the dashboards
count the occurrences themselves: the figures are the same either way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, delete, func, insert, literal, select, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, municipalities_clause, scope_clause
from engine.app import App
from engine.lifecycle.definition import Phase
from engine.models import (
    DAILY_DAYS,
    ROLLUP_SLOTS,
    Activity,
    Occurrence,
    Organization,
    OrganizationKind,
    ProgressDaily,
    ProgressRollup,
    ProgressTally,
    ProgressTallyDay,
    TransitionLog,
)
from engine.readmodels.common import in_phase
from engine.readmodels.worklist import WorkFilter

#: Any of the tables: each has the columns its readers' scope and clauses read.
Counts = type[ProgressTally] | type[ProgressRollup] | type[ProgressDaily]


class DueBucket(IntEnum):
    """Where an occurrence's due date lies against the tally's day."""

    PAST = 0
    TODAY = 1
    FUTURE = 2
    UNDATED = 3


def municipality_of(owner: Any) -> Any:
    """The municipality an assignee's work counts in: a school's, else the assignee itself
    (a municipality's or the region's own work)."""
    return case((owner.kind == OrganizationKind.SCHOOL, owner.parent_id), else_=owner.id)


def tally_day(session: Session) -> date | None:
    """The day the tally counts against, or None while it waits for a rebuild."""
    return session.execute(
        select(ProgressTallyDay.as_of).where(ProgressTallyDay.id == 1)
    ).scalar_one_or_none()


def holds(session: Session, today: date, narrow: WorkFilter) -> bool:
    """Whether the tally can answer for `narrow` today: it is current and counts by day
    relative to today, so a period of due dates needs the occurrences themselves."""
    return narrow.due_from is None and narrow.due_to is None and tally_day(session) == today


def refresh(session: Session, today: date, zone: str | None = None) -> bool:
    """Rebuild the tally as of `today` unless it is current already; whether it was rebuilt.
    With `zone` (on PostgreSQL), the daily counts too, in that time zone's days.

    On PostgreSQL the occurrences are locked against writes for the rebuild (about a second
    at a million), so that no transition counted by a trigger is counted twice or lost."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if not postgresql:
        zone = None  # SQLite counts no days: it knows no time zones
    if counts_days(session, today, zone):
        return False
    if postgresql:
        session.execute(text("LOCK TABLE occurrence IN SHARE MODE"))
    owner = aliased(Organization)
    bucket = case(
        (Occurrence.due_on.is_(None), DueBucket.UNDATED.value),
        (Occurrence.due_on < today, DueBucket.PAST.value),
        (Occurrence.due_on == today, DueBucket.TODAY.value),
        else_=DueBucket.FUTURE.value,
    )
    keys = [
        Occurrence.assignee_id,
        Activity.roadmap_id,
        func.coalesce(Activity.section_id, 0),
        Occurrence.state,
        Occurrence.history,
        bucket,
        municipality_of(owner),
    ]
    counted = (
        select(*keys, func.count())
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(owner, owner.id == Occurrence.assignee_id)
        .group_by(*keys)
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
    session.execute(delete(ProgressDaily))
    if zone is not None:
        _daily(session, today, zone)
    if session.execute(update(ProgressTallyDay).values(as_of=today, zone=zone)).rowcount == 0:
        session.execute(insert(ProgressTallyDay).values(id=1, as_of=today, zone=zone))
    return True


def _daily(session: Session, today: date, zone: str) -> None:
    """Count the transition log's entries into each state for `DAILY_DAYS` back."""
    since = datetime.combine(today - timedelta(days=DAILY_DAYS), time(), ZoneInfo(zone))
    owner = aliased(Organization)
    slot = Occurrence.assignee_id % ROLLUP_SLOTS
    day = cast(func.timezone(zone, TransitionLog.at), Date)
    keys = [municipality_of(owner), slot, day, TransitionLog.to_state]
    counted = (
        select(*keys, func.count())
        .join(Occurrence, Occurrence.id == TransitionLog.occurrence_id)
        .join(owner, owner.id == Occurrence.assignee_id)
        .where(TransitionLog.at >= since, TransitionLog.from_state != TransitionLog.to_state)
        .group_by(*keys)
    )
    session.execute(
        insert(ProgressDaily).from_select(["municipality_id", "slot", "day", "state", "n"], counted)
    )


def counts_days(session: Session, today: date, zone: str | None) -> bool:
    """Whether the tally is current today with daily counts in `zone` (None: without)."""
    current = session.execute(
        select(ProgressTallyDay.as_of, ProgressTallyDay.zone).where(ProgressTallyDay.id == 1)
    ).one_or_none()
    return current is not None and tuple(current) == (today, zone)


def rolls_up(actor: Actor) -> bool:
    """Whether the rollup can answer for `actor`: their territory is whole municipalities."""
    return municipalities_clause(actor, ProgressRollup.municipality_id) is not None


def scope(actor: Actor, t: Counts) -> Any:
    """`scope_clause` on tally, rollup or daily rows: by municipality where the territory
    is whole municipalities (the index's column, and the only one the others have), else by
    assignee."""
    by_municipality = municipalities_clause(actor, t.municipality_id)
    if by_municipality is not None:
        return by_municipality
    assert t is ProgressTally, "only the tally answers for a school or a curator"
    return scope_clause(actor, ProgressTally.assignee_id)


def figures(app: App, t: Counts = ProgressTally) -> list[Any]:
    """The dashboard's six figures (as in `progress._figures`), summed over tally or
    rollup rows."""
    done = in_phase(app, Phase.DONE, t.state)
    under_review = in_phase(app, Phase.UNDER_REVIEW, t.state)
    is_open = in_phase(app, Phase.OPEN, t.state)
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
        where.append(in_phase(app, narrow.phase, t.state))
    if narrow.active_only:
        where.append(~in_phase(app, Phase.CANCELLED, t.state))
    return where
