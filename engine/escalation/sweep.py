"""The deadline sweep: reminders, overdue marking and escalations, set-based and exactly once.

One sweep takes its "now" from the caller. It walks indexed queries in batches: each batch
claims its rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL), inserts the escalation rows with
ON CONFLICT DO NOTHING against their unique key (subject, kind, level, cycle), raises the
subject's level, and writes the notifications, all in one transaction. Two sweeps at once
share the work; a sweep killed halfway leaves whole batches behind; running it again with
the same "now" finds nothing to do.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, case, exists, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.db import unit_of_work
from engine.deadlines.calendar import WorkCalendar
from engine.escalation.policy import EscalationPolicy, PolicyBook
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.kinds import SUBJECTS, SubjectSpec
from engine.models import (
    Escalation,
    EscalationKind,
    Organization,
    OrganizationKind,
)
from engine.notices.notify import notify_escalations

BATCH_SIZE = 2000


@dataclass
class SweepResult:
    """What one sweep did."""

    reminders: int = 0
    escalations: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0})
    review_escalations: int = 0
    notifications: int = 0
    batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints: "overdue" counts the subjects that became overdue."""
        return {
            "reminders": self.reminders,
            "overdue": self.escalations[1],
            "escalations": {str(level): n for level, n in self.escalations.items()},
            "review_escalations": self.review_escalations,
        }


@dataclass(frozen=True)
class SweepContext:
    """The fixed facts of one sweep."""

    now: datetime
    today: date
    calendar: WorkCalendar
    timezone: ZoneInfo
    until: float | None = None  # time.monotonic() after which no new batch begins


class SweepPaused(Exception):
    """The sweep stopped between batches when its time was up; every batch it did is committed."""

    def __init__(self, result: SweepResult) -> None:
        super().__init__(f"paused after {result.batches} batches")
        self.result = result


#: Called before each batch commits; tests use it to kill a sweep halfway.
BatchHook = Callable[[str], None]


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date of `now` where the schools are (deadlines are local dates)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def sweep(
    engine: Engine,
    policies: PolicyBook,
    now: datetime,
    *,
    timezone: str = "Europe/Moscow",
    batch_size: int = BATCH_SIZE,
    after_batch: BatchHook | None = None,
    until: float | None = None,
) -> SweepResult:
    """Run one sweep as of `now`; return its counts.

    With `until` (a `time.monotonic()` value) no batch begins after it, once one batch is done:
    `SweepPaused` then carries the counts, and a sweep as of the same `now` does the rest.
    """
    with unit_of_work(engine, readonly=True) as session:
        groups = policies.groups(session)
        calendar = WorkCalendar.load(session)
    context = SweepContext(now, local_today(now, timezone), calendar, ZoneInfo(timezone), until)
    result = SweepResult()
    for policy, municipalities, include in groups:
        scope = (municipalities, include)
        if policy.open_states and _spec(policy).ladder:
            result.reminders += _batches(
                engine,
                context,
                _reminder_step(policy, context, scope),
                batch_size,
                after_batch,
                result,
            )
            for level in (1, 2, 3):
                result.escalations[level] += _batches(
                    engine,
                    context,
                    _overdue_step(policy, context, scope, level),
                    batch_size,
                    after_batch,
                    result,
                )
        result.review_escalations += _batches(
            engine,
            context,
            _review_step(policy, context, scope),
            batch_size,
            after_batch,
            result,
        )
    return result


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One kind of escalation: which rows need it, what row it inserts, what it updates."""

    name: str
    spec: SubjectSpec
    needs: Any  # WHERE clause on `table`
    kind: str
    level: int
    cycle: Any  # column of `table`
    due_on: Any
    raise_level: bool
    #: The claim's ORDER BY: the columns of the index that finds the rows. Open rows long
    #: past their due date are rare, but the planner cannot know that state and due date go
    #: together; ordered by its index, a LIMIT makes the index the cheap plan.
    order: tuple[Any, ...]

    @property
    def table(self) -> Any:
        """The subjects' table."""
        return self.spec.table


def _spec(policy: EscalationPolicy) -> SubjectSpec:
    return SUBJECTS[SubjectKind(policy.subject)]


def _ladder_order(table: Any) -> tuple[Any, ...]:
    """The escalation index (state, level, due date), then the id."""
    return (table.state, table.escalation_level, table.due_on, table.id)


def _in_scope(owner_column: Any, scope: tuple[list[int] | None, bool]) -> Any:
    """Restrict a step to the municipalities a policy applies to."""
    municipalities, include = scope
    if municipalities is None:
        return literal(True)
    owner = aliased(Organization)
    municipality = case((owner.kind == OrganizationKind.SCHOOL, owner.parent_id), else_=owner.id)
    belongs = exists().where(owner.id == owner_column, municipality.in_(municipalities))
    return belongs if include else ~belongs


def _workflow(table: Any, policy: EscalationPolicy) -> Any:
    return table.workflow_name == policy.workflow


def _reminder_step(
    policy: EscalationPolicy, context: SweepContext, scope: tuple[list[int] | None, bool]
) -> _Step:
    spec = _spec(policy)
    table = spec.table
    horizon = context.calendar.add_working_days(context.today, policy.reminder_days)
    reminded = exists().where(
        spec.linked(Escalation) == table.id,
        Escalation.kind == EscalationKind.REMINDER,
        Escalation.cycle == table.due_revision,
    )
    needs = and_(
        table.state.in_(policy.open_states),
        table.escalation_level == 0,
        table.due_on >= context.today,
        table.due_on <= horizon,
        _workflow(table, policy),
        ~reminded,
        _in_scope(spec.owner, scope),
    )
    return _Step(
        "reminder",
        spec,
        needs,
        EscalationKind.REMINDER,
        0,
        table.due_revision,
        table.due_on,
        raise_level=False,
        order=_ladder_order(table),
    )


def _overdue_step(
    policy: EscalationPolicy,
    context: SweepContext,
    scope: tuple[list[int] | None, bool],
    level: int,
) -> _Step:
    spec = _spec(policy)
    table = spec.table
    latest_due = context.calendar.latest_due_escalated(context.today, policy.offsets()[level])
    needs = and_(
        table.state.in_(policy.open_states),
        table.escalation_level == level - 1,
        table.escalation_held.is_(False),
        table.due_on <= latest_due,
        _workflow(table, policy),
        _in_scope(spec.owner, scope),
    )
    return _Step(
        f"overdue-{level}",
        spec,
        needs,
        EscalationKind.OVERDUE,
        level,
        table.due_revision,
        table.due_on,
        raise_level=True,
        order=_ladder_order(table),
    )


def _review_step(
    policy: EscalationPolicy,
    context: SweepContext,
    scope: tuple[list[int] | None, bool],
) -> _Step:
    spec = _spec(policy)
    table = spec.table
    latest_day = context.calendar.latest_due_escalated(context.today, policy.review_days)
    # reported on or before `latest_day` (local date) = before the next local midnight
    cutoff = datetime.combine(latest_day + timedelta(days=1), time(), tzinfo=context.timezone)
    escalated = exists().where(
        spec.linked(Escalation) == table.id,
        Escalation.kind == EscalationKind.REVIEW,
        Escalation.cycle == table.version,
    )
    needs = and_(
        table.state.in_(policy.review_states),
        table.state_changed_at < cutoff,
        _workflow(table, policy),
        ~escalated,
        _in_scope(spec.owner, scope),
    )
    return _Step(
        f"review-{table.__tablename__}",
        spec,
        needs,
        EscalationKind.REVIEW,
        1,
        table.version,
        table.due_on if spec.ladder else literal(None),
        raise_level=False,
        order=(table.state, table.state_changed_at, table.id),
    )


# --- running ---------------------------------------------------------------------------------


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Escalation)


def _batches(
    engine: Engine,
    context: SweepContext,
    step: _Step,
    batch_size: int,
    after_batch: BatchHook | None,
    result: SweepResult,
) -> int:
    """Run `step` batch by batch until no row needs it; return the escalations inserted."""
    inserted_total = 0
    while True:
        if context.until is not None and result.batches and clock.monotonic() >= context.until:
            raise SweepPaused(result)
        with unit_of_work(engine) as session:
            ids = (
                session.execute(
                    select(step.table.id)
                    .where(step.needs)
                    .order_by(*step.order)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True, of=step.table)
                )
                .scalars()
                .all()
            )
            if not ids:
                return inserted_total
            link = step.spec.link
            rows = select(
                step.table.id,
                literal(step.kind),
                literal(step.level),
                step.cycle,
                step.due_on,
                literal(context.now, Escalation.created_at.type),
            ).where(step.table.id.in_(ids))
            new_ids = (
                session.execute(
                    _insert(session)
                    .from_select([link, "kind", "level", "cycle", "due_on", "created_at"], rows)
                    .on_conflict_do_nothing()
                    .returning(Escalation.id)
                )
                .scalars()
                .all()
            )
            if step.raise_level:
                session.execute(
                    update(step.table)
                    .where(step.table.id.in_(ids), step.table.escalation_level < step.level)
                    .values(escalation_level=step.level)
                )
            result.notifications += notify_escalations(session, new_ids, context.now)
            if after_batch is not None:
                after_batch(step.name)  # inside the transaction: a crash here loses the batch
            inserted_total += len(new_ids)
            claimed = len(ids)
        result.batches += 1
        if claimed < batch_size and not step.raise_level:
            # the rows just handled no longer match; a short batch means the set is done
            return inserted_total
