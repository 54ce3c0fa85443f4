"""Writing a roadmap draft into the database: first import, and re-import in place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, exists, func, select
from sqlmodel import Session

from engine.deadlines.parser import Period, Schedule, ScheduleKind
from engine.errors import NotFoundError, ValidationError
from engine.importing.arrival import Arrival, PastDue, Summary
from engine.importing.indicators import DraftIndicator, from_results
from engine.importing.parties import School, resolve_assignees
from engine.importing.structure import DraftActivity, RoadmapDraft
from engine.lifecycle.definition import Lifecycle, SubjectKind, WorkflowRegistry
from engine.models import (
    Activity,
    Comment,
    Escalation,
    Evidence,
    Indicator,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    RoadmapLevel,
    RoadmapParticipant,
    RoadmapStatus,
    Section,
    TransitionLog,
)
from engine.work.roadmaps import add_occurrences


def due_dates(schedule: Schedule) -> tuple[list[date], bool]:
    """The due dates an activity's schedule gives each assignee, and whether they are dated."""
    if schedule.kind in (ScheduleKind.ON_DEMAND, ScheduleKind.NONE):
        return [], False
    if schedule.kind == ScheduleKind.CONTINUOUS:
        return [schedule.due[-1]], True
    return list(schedule.due), True


@dataclass
class ImportReport:
    """What an import did, for the readable summary."""

    roadmap_id: int
    created: bool
    activities: int
    kinds: Counter[str]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    occurrences_added: int = 0
    occurrences_removed: int = 0
    occurrences_kept: int = 0
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    #: Of the occurrences added, those with a due date, and those already past it.
    dated_added: int = 0
    past_due_added: int = 0
    assignees: set[int] = field(default_factory=set)

    def summary(self) -> Summary:
        """The counts the dry run and the preview show."""
        parties = sorted({p for found in self.unresolved.values() for p in found})
        return Summary(self.occurrences_added, self.past_due_added, len(self.assignees), parties)


def find_municipality(session: Session, name: str | None) -> Organization:
    """The owner municipality, by (part of) its name; the only one when no name is given."""
    query = select(Organization).where(Organization.kind == OrganizationKind.MUNICIPALITY)
    if name:
        query = query.where(Organization.name.ilike(f"%{name}%"))
    found = session.execute(query.limit(3)).scalars().all()
    if not found:
        what = f"matches '{name}'" if name else "exists"
        raise NotFoundError(f"no municipality {what}; create it first (roadmap demo makes one)")
    if len(found) > 1:
        raise ValidationError("several municipalities match; name one with --municipality")
    return found[0]


_FIELDS = (
    "title",
    "description",
    "level",
    "deadline_text",
    "responsible_text",
    "planned_result",
    "report_form",
)


def _activity_values(draft: DraftActivity) -> dict[str, object]:
    assert draft.schedule is not None
    return {
        "title": draft.title,
        "description": draft.description,
        "level": draft.level,
        "deadline_text": draft.deadline_text,
        "schedule": draft.schedule.to_dict(),
        "responsible_text": draft.responsible_text,
        "planned_result": draft.planned_result,
        "report_form": draft.report_form,
    }


def import_roadmap(
    session: Session,
    registry: WorkflowRegistry,
    draft: RoadmapDraft,
    municipality: Organization,
    *,
    roadmap_id: int | None = None,
    arrival: Arrival | None = None,
) -> ImportReport:
    """Create the roadmap, or update the one imported before, in the caller's transaction.

    `arrival` says what to do with new work already past due (see `PastDue`); without it,
    such work is written as it is.

    The roadmap updated is `roadmap_id`, or the municipality's roadmap with the same title.
    Re-import matches activities by part and number, then by title; it keeps every existing
    occurrence that has been worked on, adds what the new schedule asks for, removes only
    untouched planned occurrences the schedule no longer has, and creates no duplicates.
    """
    schools = [
        School(row.id, row.name)
        for row in session.execute(
            select(Organization.id, Organization.name)
            .where(
                Organization.parent_id == municipality.id,
                Organization.kind == OrganizationKind.SCHOOL,
            )
            .order_by(Organization.id)
        )
    ]
    roadmap = _existing_roadmap(session, draft, municipality.id, roadmap_id)
    created = roadmap is None
    if roadmap is None:
        roadmap = Roadmap(
            title=draft.title,
            level=RoadmapLevel.MUNICIPAL,
            owner_id=municipality.id,
            period_start=draft.period.start,
            period_end=draft.period.end,
            order_number=draft.order_number,
            order_date=draft.order_date,
            status=RoadmapStatus.ACTIVE,
        )
        session.add(roadmap)
        session.flush()
    else:
        roadmap.title = draft.title
        roadmap.period_start, roadmap.period_end = draft.period.start, draft.period.end
        roadmap.order_number, roadmap.order_date = draft.order_number, draft.order_date
    known = set(
        session.execute(
            select(RoadmapParticipant.school_id).where(RoadmapParticipant.roadmap_id == roadmap.id)
        ).scalars()
    )
    session.add_all(
        RoadmapParticipant(roadmap_id=roadmap.id, school_id=s.id)
        for s in schools
        if s.id not in known
    )

    report = ImportReport(
        roadmap.id,
        created,
        len(draft.activities),
        Counter(str(a.schedule.kind) for a in draft.activities if a.schedule),
    )
    sections = _sections(session, roadmap.id, draft)
    existing = list(
        session.execute(
            select(Activity).where(Activity.roadmap_id == roadmap.id).order_by(Activity.position)
        ).scalars()
    )
    matched = _match(existing, draft.activities)
    written: dict[int, int | None] = {}
    lifecycle = registry.for_subject(SubjectKind.OCCURRENCE)
    for position, item in enumerate(draft.activities, start=1):
        values = _activity_values(item)
        section_id = sections.get((item.part, item.section_number, item.section_title))
        activity = matched.get(id(item))
        label = f"{item.part + ': ' if item.part else ''}{item.number} {item.title[:60]}"
        if activity is None:
            activity = Activity(
                roadmap_id=roadmap.id,
                section_id=section_id,
                part=item.part,
                number=item.number,
                position=position,
                **values,
            )
            session.add(activity)
            session.flush()
            report.added.append(label)
        else:
            changed = (
                any(getattr(activity, name) != values[name] for name in (*_FIELDS, "schedule"))
                or activity.number != item.number
            )
            for name, value in values.items():
                setattr(activity, name, value)
            activity.number, activity.section_id, activity.part = item.number, section_id, item.part
            activity.position = position
            if changed and not created:
                report.changed.append(label)
        written[id(item)] = activity.id
        assignees, unresolved = resolve_assignees(
            item.responsible_parties(), schools, municipality.id
        )
        if unresolved:
            report.unresolved[label] = unresolved
        report.assignees |= assignees
        sync_occurrences(session, lifecycle, activity.id, assignees, item.schedule, report, arrival)
    write_indicators(session, roadmap.id, draft.indicators, written)
    matched_ids = {a.id for a in matched.values()}
    report.missing = [
        f"{a.part + ': ' if a.part else ''}{a.number} {a.title[:60]}"
        for a in existing
        if a.id not in matched_ids
    ]
    return report


def write_indicators(
    session: Session,
    roadmap_id: int,
    drafts: list[DraftIndicator],
    activity_ids: dict[int, int | None],
) -> None:
    """Write the draft's indicators: one read before (the same activity and number, else the
    same title) is updated in place, the rest added. An indicator the document no longer has
    (or one a coordinator added) is kept, after the others: nothing is lost by a re-import.
    `activity_ids` gives the written activity of each draft activity (by its `id()`)."""
    existing = list(
        session.execute(select(Indicator).where(Indicator.roadmap_id == roadmap_id)).scalars()
    )
    free = {row.id: row for row in existing}
    for position, draft in enumerate(drafts, start=1):
        activity_id = activity_ids.get(id(draft.source)) if draft.source else None
        row = next(
            (r for r in free.values() if (r.activity_id, r.number) == (activity_id, draft.number)),
            None,
        ) or next((r for r in free.values() if r.title == draft.title), None)
        if row is None:
            row = Indicator(roadmap_id=roadmap_id, title=draft.title)
            session.add(row)
        else:
            del free[row.id]
        _fill(row, draft, activity_id)
        row.position = position
    for position, row in enumerate(sorted(free.values(), key=lambda r: r.position), start=1):
        row.position = len(drafts) + position
    session.flush()


def next_indicator_position(session: Session, roadmap_id: int | None) -> int:
    """The place after the roadmap's last indicator."""
    last = session.execute(
        select(func.max(Indicator.position)).where(Indicator.roadmap_id == roadmap_id)
    ).scalar()
    return int(last or 0) + 1


def follow_result(session: Session, roadmap: Roadmap, activity: Activity) -> None:
    """After an activity's planned result or parties changed: the indicator its result states
    is read again (added, updated, or removed when the result no longer states a target)."""
    draft = DraftActivity(
        activity.part,
        None,
        None,
        activity.number,
        activity.title,
        None,
        level=activity.level,
        responsible_text=activity.responsible_text,
        planned_result=activity.planned_result,
    )
    found = from_results([draft], Period(roadmap.period_start, roadmap.period_end)).indicators
    row = session.execute(
        select(Indicator).where(Indicator.activity_id == activity.id).limit(1)
    ).scalar()
    if not found:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = Indicator(roadmap_id=roadmap.id, activity_id=activity.id, title="")
        row.position = next_indicator_position(session, roadmap.id)
        session.add(row)
    _fill(row, found[0], activity.id)


def _fill(row: Indicator, draft: DraftIndicator, activity_id: int | None) -> None:
    target = draft.target
    row.activity_id, row.number, row.title, row.text = (
        activity_id,
        draft.number,
        draft.title,
        draft.text,
    )
    row.target_value = target.value if target else None
    row.unit = target.unit if target else None
    row.direction = str(target.direction) if target else None
    row.baseline, row.due_text, row.scope = draft.baseline, draft.due_text, str(draft.scope)
    row.due = [d.isoformat() for d in draft.due]


def _existing_roadmap(
    session: Session, draft: RoadmapDraft, owner_id: int, roadmap_id: int | None
) -> Roadmap | None:
    """The roadmap to update: the one named, else the owner's roadmap of the same title."""
    if roadmap_id is not None:
        roadmap = session.get(Roadmap, roadmap_id)
        if roadmap is None or roadmap.owner_id != owner_id:
            raise NotFoundError(f"roadmap {roadmap_id} does not exist in this municipality")
        return roadmap
    query = select(Roadmap).where(Roadmap.owner_id == owner_id, Roadmap.title == draft.title)
    return session.execute(query.order_by(Roadmap.id).limit(1)).scalars().first()


def _sections(
    session: Session, roadmap_id: int, draft: RoadmapDraft
) -> dict[tuple[str | None, str | None, str | None], int]:
    """Section ids by (part, number, title), creating the ones not there yet."""
    existing = {
        (s.part, s.number, s.title): s.id
        for s in session.execute(select(Section).where(Section.roadmap_id == roadmap_id)).scalars()
    }
    position = len(existing)
    for item in draft.activities:
        key = (item.part, item.section_number, item.section_title)
        if item.section_title is None or key in existing:
            continue
        position += 1
        section = Section(
            roadmap_id=roadmap_id,
            part=item.part,
            number=item.section_number,
            title=item.section_title,
            position=position,
        )
        session.add(section)
        session.flush()
        existing[key] = section.id
    return existing


def _match(existing: list[Activity], drafts: list[DraftActivity]) -> dict[int, Activity]:
    """Pair document activities with stored ones: by part and number, else by part and title."""
    free = list(existing)
    matched: dict[int, Activity] = {}
    passes: tuple[Callable[[Activity, DraftActivity], bool], ...] = (
        lambda a, d: a.part == d.part and a.number == d.number and a.title == d.title,
        lambda a, d: a.part == d.part and a.number == d.number,
        lambda a, d: a.part == d.part and a.title == d.title,
    )
    for same in passes:
        for item in drafts:
            if id(item) in matched:
                continue
            candidates = [a for a in free if same(a, item)]
            if len(candidates) >= 1:
                matched[id(item)] = candidates[0]
                free.remove(candidates[0])
    return matched


def sync_occurrences(
    session: Session,
    lifecycle: Lifecycle,
    activity_id: int,
    assignees: set[int],
    schedule: Schedule | None,
    report: ImportReport,
    arrival: Arrival | None,
) -> None:
    """Make the activity's occurrences match its schedule, losing nothing anyone touched.
    Occurrences are matched by the date their schedule gave, wherever their due date went."""
    assert schedule is not None
    dates, scheduled = due_dates(schedule)
    rows = session.execute(
        select(
            Occurrence.id,
            Occurrence.assignee_id,
            Occurrence.due_on,
            Occurrence.scheduled_on,
            Occurrence.scheduled,
            Occurrence.state,
            Occurrence.version,
        ).where(Occurrence.activity_id == activity_id)
    ).all()
    have_dated = {(r.assignee_id, r.scheduled_on or r.due_on) for r in rows if r.scheduled}
    have_unscheduled = {r.assignee_id for r in rows if not r.scheduled}
    due_taken = {(r.assignee_id, r.due_on) for r in rows}
    for assignee in sorted(assignees):
        if scheduled:
            wanted = [d for d in dates if (assignee, d) not in have_dated]
            past = [d for d in wanted if arrival is not None and d < arrival.today]
            report.dated_added += len(wanted)
            report.past_due_added += len(past)
            report.occurrences_added += add_occurrences(
                session, lifecycle, activity_id, [assignee], [d for d in wanted if d not in past]
            )
            if past:
                assert arrival is not None
                _arrive_past_due(
                    session, lifecycle, activity_id, assignee, past, dates, due_taken, arrival
                )
                report.occurrences_added += len(past)
        elif assignee not in have_unscheduled:
            report.occurrences_added += add_occurrences(
                session, lifecycle, activity_id, [assignee], [None], scheduled=False
            )
    wanted_dated = {(a, d) for a in assignees for d in dates} if scheduled else set()
    stale = [
        r.id
        for r in rows
        if (r.scheduled and (r.assignee_id, r.scheduled_on or r.due_on) not in wanted_dated)
        or (not r.scheduled and (scheduled or r.assignee_id not in assignees))
    ]
    removable = untouched(session, lifecycle.definition.initial, stale)
    if removable:
        session.execute(delete(Occurrence).where(Occurrence.id.in_(removable)))
    report.occurrences_removed += len(removable)
    report.occurrences_kept += len(stale) - len(removable)


def _arrive_past_due(
    session: Session,
    lifecycle: Lifecycle,
    activity_id: int,
    assignee: int,
    past: list[date],
    dates: list[date],
    due_taken: set[tuple[int, date | None]],
    arrival: Arrival,
) -> None:
    """Write one assignee's past-due occurrences of an activity as `arrival` says."""
    if arrival.past_due is PastDue.KEEP:
        add_occurrences(session, lifecycle, activity_id, [assignee], past)
        return
    moved = arrival.past_due is PastDue.MOVE and (
        arrival.moved_to not in dates and (assignee, arrival.moved_to) not in due_taken
    )
    history = past[:-1] if moved else past
    add_occurrences(session, lifecycle, activity_id, [assignee], history, held=True)
    if moved:
        add_occurrences(
            session, lifecycle, activity_id, [assignee], past[-1:], moved_to=arrival.moved_to
        )


def preview_roadmap(
    session: Session,
    registry: WorkflowRegistry,
    draft: RoadmapDraft,
    municipality: Organization | None,
    arrival: Arrival,
) -> ImportReport:
    """What importing `draft` would write, found by writing it in a savepoint rolled back at
    once; with no municipality, as if into an empty one."""
    savepoint = session.begin_nested()
    try:
        if municipality is None:
            municipality = Organization(kind=OrganizationKind.MUNICIPALITY, name="—")
            session.add(municipality)
            session.flush()
        return import_roadmap(session, registry, draft, municipality, arrival=arrival)
    finally:
        savepoint.rollback()


def untouched(session: Session, initial: str, ids: list[int]) -> list[int]:
    """Of `ids`, the occurrences nobody has worked on: still initial, never transitioned,
    never escalated, with no comment and no evidence."""
    if not ids:
        return []
    return list(
        session.execute(
            select(Occurrence.id).where(
                Occurrence.id.in_(ids),
                Occurrence.state == initial,
                Occurrence.version == 1,
                *(
                    ~exists().where(trace.occurrence_id == Occurrence.id)
                    for trace in (TransitionLog, Escalation, Comment, Evidence)
                ),
            )
        ).scalars()
    )
