"""Progress: the dashboard, the approvals trend and the execution report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach, scope_clause
from engine.app import App
from engine.errors import NotFoundError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import (
    Activity,
    Comment,
    CommentKind,
    Document,
    Evidence,
    Occurrence,
    Organization,
    OrganizationKind,
    ProgressDaily,
    ProgressRollup,
    ProgressTally,
    Roadmap,
    Section,
    TransitionLog,
)
from engine.readmodels import tally
from engine.readmodels.common import in_phase, overdue_clause
from engine.readmodels.worklist import WorkFilter, work_clauses


@dataclass(frozen=True)
class SchoolProgress:
    """One school's work on the dashboard."""

    school_id: int
    school: str
    total: int
    approved: int
    reported: int
    overdue: int
    escalated: int

    @property
    def percent(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


@dataclass(frozen=True)
class SectionProgress:
    """One section's work across the schools."""

    section: str
    total: int
    approved: int

    @property
    def percent(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


@dataclass(frozen=True)
class Totals:
    """The dashboard's figures, each the count of a list it links to."""

    total: int = 0
    done: int = 0
    under_review: int = 0
    overdue: int = 0
    #: What is due by today, and how much of it is done.
    due: int = 0
    done_due: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def percent_due(self) -> int:
        return round(100 * self.done_due / self.due) if self.due else 0

    @classmethod
    def of(cls, areas: list[AreaProgress]) -> Totals:
        """The sum of `progress_by`'s rows: every occurrence it counts is in exactly one."""
        return cls(*(sum(getattr(a.figures, name) for a in areas) for name in _TOTALS))


_TOTALS = ("total", "done", "under_review", "overdue", "due", "done_due")


def _figures(app: App, today: date) -> list[Any]:
    done, under_review = in_phase(app, Phase.DONE), in_phase(app, Phase.UNDER_REVIEW)
    is_due = Occurrence.due_on <= today
    return [
        func.count(),
        func.sum(case((done, 1), else_=0)),
        func.sum(case((under_review, 1), else_=0)),
        func.sum(case((overdue_clause(app, today), 1), else_=0)),
        func.sum(case((is_due, 1), else_=0)),
        func.sum(case((and_(done, is_due), 1), else_=0)),
    ]


def _totals(row: Any, start: int) -> Totals:
    return Totals(*(int(value or 0) for value in row[start : start + 6]))


def work_totals(
    app: App, session: Session, actor: Actor, today: date, narrow: WorkFilter
) -> Totals:
    """The figures of the work the task list shows for `narrow` (cancelled work left out)."""
    where = [scope_clause(actor, Occurrence.assignee_id), *work_clauses(app, active(narrow))]
    row = session.execute(
        select(*_figures(app, today))
        .select_from(Occurrence)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*where)
    ).one()
    return _totals(row, 0)


def active(narrow: WorkFilter) -> WorkFilter:
    """`narrow` without cancelled work."""
    return replace(narrow, active_only=True)


@dataclass(frozen=True)
class AreaProgress:
    """One school's or one municipality's figures on the dashboard."""

    id: int
    name: str
    kind: str
    figures: Totals


#: The orders of the dashboard's table: a column of its figures, or the name.
AREA_SORTS = ("name", "total", "percent", "percent_due", "under_review", "overdue")


def progress_by(
    app: App,
    session: Session,
    actor: Actor,
    today: date,
    narrow: WorkFilter,
    *,
    municipalities: bool = False,
    sort: str = "name",
    descending: bool = False,
) -> list[AreaProgress]:
    """The figures per school, a municipality's own work a row of its own (or, with
    `municipalities`, per municipality: its schools' work and its own), in the order `sort`
    (one of AREA_SORTS; ties by name)."""
    area = aliased(Organization)
    if tally.holds(session, today, narrow):
        t: tally.Counts = (
            ProgressRollup if municipalities and tally.rolls_up(actor) else ProgressTally
        )
        grouped: Any = t.municipality_id if municipalities else ProgressTally.assignee_id
        query = select(grouped.label("area_id"), *tally.figures(app, t)).where(
            tally.scope(actor, t), *tally.clauses(app, active(narrow), t)
        )
    else:
        owner = aliased(Organization)
        grouped = tally.municipality_of(owner) if municipalities else owner.id
        query = (
            select(grouped.label("area_id"), *_figures(app, today))
            .select_from(Occurrence)
            .join(Activity, Activity.id == Occurrence.activity_id)
            .join(owner, owner.id == Occurrence.assignee_id)
            .where(scope_clause(actor, Occurrence.assignee_id), *work_clauses(app, active(narrow)))
        )
    figures = query.group_by(grouped).subquery()
    total, done, under_review, overdue, due, done_due = list(figures.c)[1:]
    keys: dict[str, Any] = {
        "total": total,
        "percent": done * 1.0 / func.nullif(total, 0),
        "percent_due": func.coalesce(done_due * 1.0 / func.nullif(due, 0), 0),
        "under_review": under_review,
        "overdue": overdue,
    }
    if sort in keys:
        column = keys[sort]
        order = [column.desc() if descending else column.asc(), area.name]
    else:
        name = area.name.desc() if descending else area.name.asc()
        order = [area.kind != OrganizationKind.MUNICIPALITY, name]
    rows = session.execute(
        select(area.id, area.name, area.kind, *list(figures.c)[1:])
        .join(figures, figures.c.area_id == area.id)
        .order_by(*order)
    ).all()
    return [AreaProgress(row[0], row[1], row[2], _totals(row, 3)) for row in rows]


def dashboard(
    app: App,
    session: Session,
    actor: Actor,
    today: date,
    *,
    school_id: int | None = None,
    narrow: WorkFilter | None = None,
) -> tuple[list[SchoolProgress], list[SectionProgress]]:
    """Completion per school and per section within the actor's territory (or one school of
    it), grouped in SQL."""
    scope = and_(
        scope_clause(actor, Occurrence.assignee_id), *work_clauses(app, narrow or WorkFilter())
    )
    if school_id is not None:
        scope = and_(scope, Occurrence.assignee_id == school_id)
    counted = ~in_phase(app, Phase.CANCELLED)
    done, under_review = in_phase(app, Phase.DONE), in_phase(app, Phase.UNDER_REVIEW)
    schools = session.execute(
        select(
            Organization.id,
            Organization.name,
            func.count(),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((under_review, 1), else_=0)),
            func.sum(case((overdue_clause(app, today), 1), else_=0)),
            func.sum(case((Occurrence.escalation_level >= 2, 1), else_=0)),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(Organization, Organization.id == Occurrence.assignee_id)
        .where(scope, counted, Organization.kind == OrganizationKind.SCHOOL)
        .group_by(Organization.id, Organization.name)
        .order_by(Organization.name)
    ).all()
    return (
        [
            SchoolProgress(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0, r[6] or 0)
            for r in schools
        ],
        _sections(app, session, scope),
    )


def sections_progress(
    app: App, session: Session, actor: Actor, today: date, narrow: WorkFilter
) -> list[SectionProgress]:
    """Completion per section within the actor's territory, cancelled work left out."""
    if not tally.holds(session, today, narrow):
        scope = and_(scope_clause(actor, Occurrence.assignee_id), *work_clauses(app, narrow))
        return _sections(app, session, scope)
    t: tally.Counts = ProgressRollup if tally.rolls_up(actor) else ProgressTally
    per_section = (  # a few thousand keys, then a dozen names: no join per counted row
        select(
            t.section_key.label("section_key"),
            func.sum(t.n).label("total"),
            func.sum(case((in_phase(app, Phase.DONE, t.state), t.n), else_=0)).label("done"),
        )
        .where(tally.scope(actor, t), *tally.clauses(app, active(narrow), t))
        .group_by(t.section_key)
        .subquery()
    )
    rows = session.execute(
        select(_section_name(), func.sum(per_section.c.total), func.sum(per_section.c.done))
        .select_from(per_section)
        .outerjoin(Section, Section.id == per_section.c.section_key)
        .group_by(Section.number, Section.title)
        .order_by(_first_section())
    ).all()
    return [SectionProgress(r[0], r[1], r[2] or 0) for r in rows]


def _section_name() -> Any:
    """A section as people name it: the same number and title across roadmaps (each
    municipality's copy of a regional template, each year's renewal) is one section."""
    return func.coalesce(Section.number.concat(". ").concat(Section.title), "Без раздела")


def _first_section() -> Any:
    """Sections in the order they first appear; work outside any section last."""
    return func.coalesce(func.min(Section.id), 2**62)


def _sections(app: App, session: Session, scope: Any) -> list[SectionProgress]:
    done, counted = in_phase(app, Phase.DONE), ~in_phase(app, Phase.CANCELLED)
    rows = session.execute(
        select(
            _section_name(),
            func.count(),
            func.sum(case((done, 1), else_=0)),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .where(scope, counted)
        .group_by(Section.number, Section.title)
        .order_by(_first_section())
    ).all()
    return [SectionProgress(r[0], r[1], r[2] or 0) for r in rows]


def weekly_approvals(
    app: App, session: Session, actor: Actor, today: date, zone: ZoneInfo
) -> list[tuple[date, int]]:
    """Occurrences done per week (Monday to Sunday in `zone`) over the last twelve weeks,
    in the actor's territory: from the daily counts where they answer, else from the log."""
    this_week = today - timedelta(days=today.weekday())
    mondays = [this_week - timedelta(weeks=n) for n in range(11, -2, -1)]  # and the next
    done = app.states(SubjectKind.OCCURRENCE, Phase.DONE)
    if tally.rolls_up(actor) and tally.counts_days(session, today, zone.key):
        d = ProgressDaily
        counts = session.execute(
            select(
                *(
                    func.sum(case((and_(d.day >= start, d.day < end), d.n), else_=0))
                    for start, end in pairwise(mondays)
                )
            ).where(
                d.day >= mondays[0],
                d.day < mondays[-1],
                d.state.in_(done),
                tally.scope(actor, d),
            )
        ).one()
    else:
        at = TransitionLog.at
        starts = [datetime.combine(monday, time(), zone) for monday in mondays]
        counts = session.execute(
            select(
                *(
                    func.sum(case((and_(at >= start, at < end), 1), else_=0))
                    for start, end in pairwise(starts)
                )
            )
            .join(Occurrence, Occurrence.id == TransitionLog.occurrence_id)
            .where(
                at >= starts[0],
                at < starts[-1],
                TransitionLog.to_state.in_(done),
                TransitionLog.from_state != TransitionLog.to_state,
                scope_clause(actor, Occurrence.assignee_id),
            )
        ).one()
    return [(week, n or 0) for week, n in zip(mondays[:-1], counts, strict=True)]


@dataclass(frozen=True)
class ReportLine:
    """One activity for one school in the execution report."""

    part: str | None
    section: str | None
    number: str
    title: str
    deadline_text: str
    responsible_text: str | None
    school: str
    due_on: date | None
    state: str
    completed_at: datetime | None
    evidence: str
    #: The municipality's own work (not a school's).
    municipal: bool = False
    done: bool = False
    under_review: bool = False
    #: Days past the due date of open work (None when not overdue, or kept as history).
    overdue_days: int | None = None


@dataclass(frozen=True)
class ReportHeading:
    """Who sends the report: the owner municipality and its region."""

    owner: str
    region: str | None


def report_heading(session: Session, roadmap: Roadmap) -> ReportHeading:
    """The owner municipality and its region, for the report's header."""
    owner = session.get(Organization, roadmap.owner_id)
    region = session.get(Organization, owner.parent_id) if owner and owner.parent_id else None
    return ReportHeading(owner.name if owner else "", region.name if region else None)


def execution_report(
    app: App, session: Session, actor: Actor, roadmap_id: int, today: date | None = None
) -> tuple[Roadmap, list[ReportLine]]:
    """The roadmap's own table with each school's status, completion date and evidence;
    overdue days counted to `today`."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_reach(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    day = today or date.today()
    approved_at = (
        select(TransitionLog.occurrence_id, func.max(TransitionLog.at).label("at"))
        .where(
            TransitionLog.to_state.in_(app.states(SubjectKind.OCCURRENCE, Phase.DONE)),
            TransitionLog.from_state != TransitionLog.to_state,
        )
        .group_by(TransitionLog.occurrence_id)
        .subquery()
    )
    school = aliased(Organization)
    rows = session.execute(
        select(
            Occurrence.id,
            Activity.part,
            Section.title,
            Activity.number,
            Activity.title,
            Activity.deadline_text,
            Activity.responsible_text,
            school.name,
            Occurrence.due_on,
            Occurrence.state,
            approved_at.c.at,
            school.kind == OrganizationKind.MUNICIPALITY,
            in_phase(app, Phase.DONE),
            in_phase(app, Phase.UNDER_REVIEW),
            overdue_clause(app, day),
        )
        .join(Occurrence, Occurrence.activity_id == Activity.id)
        .join(school, school.id == Occurrence.assignee_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .outerjoin(approved_at, approved_at.c.occurrence_id == Occurrence.id)
        .where(Activity.roadmap_id == roadmap_id, scope_clause(actor, Occurrence.assignee_id))
        .order_by(Activity.position, school.name, Occurrence.due_on)
    ).all()
    names = _evidence_names(session, roadmap_id)
    lines = [
        ReportLine(
            part=r[1],
            section=r[2],
            number=r[3],
            title=r[4],
            deadline_text=r[5],
            responsible_text=r[6],
            school=r[7],
            due_on=r[8],
            state=r[9],
            completed_at=r[10],
            evidence=names.get(r[0], ""),
            municipal=bool(r[11]),
            done=bool(r[12]),
            under_review=bool(r[13]),
            overdue_days=(day - r[8]).days if r[14] and r[8] else None,
        )
        for r in rows
    ]
    return roadmap, lines


def _evidence_names(session: Session, roadmap_id: int) -> dict[int, str]:
    """Evidence file names, and "письменный отчёт" for written reports, per occurrence."""
    out: dict[int, list[str]] = {}
    in_roadmap = Occurrence.activity_id.in_(
        select(Activity.id).where(Activity.roadmap_id == roadmap_id)
    )
    for occurrence_id, name in session.execute(
        select(Evidence.occurrence_id, Evidence.original_name)
        .join(Occurrence, Occurrence.id == Evidence.occurrence_id)
        .where(in_roadmap)
        .order_by(Evidence.id)
    ):
        out.setdefault(occurrence_id, []).append(name)
    for (occurrence_id,) in session.execute(
        select(Comment.occurrence_id)
        .join(Occurrence, Occurrence.id == Comment.occurrence_id)
        .where(in_roadmap, Comment.kind == CommentKind.REPORT)
    ):
        out.setdefault(occurrence_id, []).append("письменный отчёт")
    return {key: "; ".join(dict.fromkeys(values)) for key, values in out.items()}


@dataclass(frozen=True)
class SchoolDocuments:
    """A school's documents: how many, how many wait for a verdict, how many approved."""

    total: int = 0
    under_review: int = 0
    approved: int = 0


def documents_by_school(app: App, session: Session, actor: Actor) -> dict[int, SchoolDocuments]:
    """The documents of each school the actor reaches, counted in SQL."""
    under_review = Document.state.in_(app.states(SubjectKind.DOCUMENT, Phase.UNDER_REVIEW))
    done = Document.state.in_(app.states(SubjectKind.DOCUMENT, Phase.DONE))
    rows = session.execute(
        select(
            Document.school_id,
            func.count(),
            func.sum(case((under_review, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
        )
        .where(scope_clause(actor, Document.school_id))
        .group_by(Document.school_id)
    )
    return {row[0]: SchoolDocuments(row[1], row[2] or 0, row[3] or 0) for row in rows}
