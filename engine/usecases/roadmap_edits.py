"""A coordinator corrects a roadmap after its import: edits, adds, moves and removes
activities. Each change is logged (who, when, before, after), and the activity's occurrences
follow it by the re-import rules: what anyone worked on keeps its state and history, work
never started follows the new schedule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from engine.accounts.access import Actor, Power, may, require_power, require_reach
from engine.app import App
from engine.deadlines.parser import Period, Schedule, parse_deadline
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    check_length,
)
from engine.importing.apply import ImportReport, follow_result, sync_occurrences, untouched
from engine.importing.arrival import Arrival
from engine.importing.parties import School, resolve_assignees
from engine.importing.structure import split_parties
from engine.lifecycle.definition import SubjectKind
from engine.models import (
    Activity,
    ActivityChange,
    Indicator,
    Occurrence,
    Organization,
    Roadmap,
    RoadmapParticipant,
    Section,
    User,
)
from engine.usecases.importing import local_today

#: What a coordinator may change of an activity, and how long each text may be.
EDITABLE = {
    "number": 20,
    "title": 5_000,
    "deadline_text": 1_000,
    "responsible_text": 2_000,
    "planned_result": 5_000,
    "report_form": 5_000,
}


@dataclass(frozen=True)
class EditResult:
    """What one change did to the activity's work."""

    activity_id: int | None
    schedule: Schedule | None
    added: int
    removed: int
    kept: int


def may_edit(actor: Actor, roadmap: Roadmap) -> bool:
    """Whether `actor` may correct `roadmap`: a coordinator who imports, of its owner."""
    return may(actor, Power.IMPORT) and roadmap.owner_id == actor.organization_id


def _roadmap(session: Session, actor: Actor, roadmap_id: int) -> Roadmap:
    """The roadmap, if `actor` coordinates its owner municipality."""
    require_power(actor, Power.IMPORT, "roadmaps")
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    if not may_edit(actor, roadmap):
        raise PermissionDeniedError(
            f"{actor.login} may not change roadmap {roadmap_id}: it belongs to another municipality"
        )
    return roadmap


def check_can_edit(session: Session, actor: Actor, roadmap_id: int) -> Roadmap:
    """The roadmap, if `actor` may correct it (the coordinator of its owner)."""
    return _roadmap(session, actor, roadmap_id)


def check_can_see(session: Session, actor: Actor, roadmap_id: int) -> Roadmap:
    """The roadmap, if it lies inside `actor`'s territory."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_reach(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    return roadmap


def activity_to_edit(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The activity, if `actor` may correct its roadmap."""
    return _activity(session, actor, activity_id)[0]


def roadmap_of(session: Session, activity_id: int) -> int:
    """The roadmap an activity belongs to (NotFoundError if none)."""
    roadmap_id = session.execute(
        select(Activity.roadmap_id).where(Activity.id == activity_id)
    ).scalar()
    if roadmap_id is None:
        raise NotFoundError(f"activity {activity_id} does not exist")
    return int(roadmap_id)


def _activity(session: Session, actor: Actor, activity_id: int) -> tuple[Activity, Roadmap]:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFoundError(f"activity {activity_id} does not exist")
    return activity, _roadmap(session, actor, activity.roadmap_id)


def _values(activity: Activity) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(activity, name) for name in EDITABLE}
    values["section_id"] = activity.section_id
    return values


def _label(activity: Activity) -> str:
    part = f"{activity.part}: " if activity.part else ""
    return f"{part}{activity.number} {activity.title}"


def log_change(
    session: Session,
    actor: Actor,
    roadmap_id: int,
    label: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    activity_id: int | None = None,
) -> None:
    """One correction in the roadmap's change log: who, what, before and after."""
    session.add(
        ActivityChange(
            roadmap_id=roadmap_id,
            activity_id=activity_id,
            user_id=actor.id,
            action=action,
            label=label[:300],
            before=before,
            after=after,
        )
    )


def _log(
    session: Session,
    actor: Actor,
    activity: Activity,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    label = _label(activity)
    log_change(session, actor, activity.roadmap_id, label, action, before, after, activity.id)


def _clean(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """The changed texts, stripped and checked: known fields, within their lengths."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"an activity has no field {unknown[0]!r}")
    cleaned: dict[str, str | None] = {}
    for name, text in changes.items():
        value = (text or "").strip()
        check_length(name.replace("_", " "), value, EDITABLE[name])
        cleaned[name] = value or (None if name not in ("title", "number", "deadline_text") else "")
    if "title" in cleaned and not cleaned["title"]:
        raise ValidationError("an activity needs a title", reason="title_required")
    if "number" in cleaned and not cleaned["number"]:
        raise ValidationError("an activity needs a number", reason="number_required")
    return cleaned


def _section(session: Session, roadmap: Roadmap, section_id: int | None) -> Section | None:
    if section_id is None:
        return None
    section = session.get(Section, section_id)
    if section is None or section.roadmap_id != roadmap.id:
        raise NotFoundError(f"section {section_id} is not a section of this roadmap")
    return section


def _follow(app: App, session: Session, activity: Activity, roadmap: Roadmap) -> EditResult:
    """Read the activity's deadline again and make its occurrences follow it."""
    period = Period(roadmap.period_start, roadmap.period_end)
    schedule = parse_deadline(activity.deadline_text, period)
    activity.schedule = schedule.to_dict()
    schools = [
        School(row.id, row.name)
        for row in session.execute(
            select(Organization.id, Organization.name)
            .join(RoadmapParticipant, RoadmapParticipant.school_id == Organization.id)
            .where(RoadmapParticipant.roadmap_id == roadmap.id)
            .order_by(Organization.id)
        )
    ]
    assignees, _ = resolve_assignees(
        split_parties(activity.responsible_text), schools, roadmap.owner_id
    )
    report = ImportReport(roadmap.id, False, 1, Counter())
    session.flush()
    sync_occurrences(
        session,
        app.registry.for_subject(SubjectKind.OCCURRENCE),
        activity.id,
        assignees,
        schedule,
        report,
        Arrival(local_today(app)),
    )
    return EditResult(
        activity.id,
        schedule,
        report.occurrences_added,
        report.occurrences_removed,
        report.occurrences_kept,
    )


def edit_activity(
    app: App, session: Session, actor: Actor, activity_id: int, changes: Mapping[str, str | None]
) -> EditResult:
    """Change an activity's texts; a new deadline or responsible text reschedules its work."""
    activity, roadmap = _activity(session, actor, activity_id)
    cleaned = _clean(changes)
    before = _values(activity)
    changed = {name: value for name, value in cleaned.items() if before[name] != value}
    if not changed:
        return EditResult(activity.id, None, 0, 0, 0)
    for name, value in changed.items():
        setattr(activity, name, value)
    _log(session, actor, activity, "edited", {n: before[n] for n in changed}, changed)
    if {"planned_result", "responsible_text", "number"} & set(changed):
        follow_result(session, roadmap, activity)
    if {"deadline_text", "responsible_text"} & set(changed):
        return _follow(app, session, activity, roadmap)
    return EditResult(activity.id, None, 0, 0, 0)


def add_activity(
    app: App,
    session: Session,
    actor: Actor,
    roadmap_id: int,
    values: Mapping[str, str | None],
    section_id: int | None = None,
) -> EditResult:
    """A new activity at the end of its section (or of the roadmap), with its work."""
    roadmap = _roadmap(session, actor, roadmap_id)
    cleaned = _clean({"title": "", "number": "", **values})
    section = _section(session, roadmap, section_id)
    last = session.execute(
        select(func.max(Activity.position)).where(Activity.roadmap_id == roadmap.id)
    ).scalar()
    activity = Activity(
        roadmap_id=roadmap.id,
        section_id=section.id if section else None,
        part=section.part if section else None,
        position=(last or 0) + 1,
        **cleaned,
    )
    session.add(activity)
    session.flush()
    follow_result(session, roadmap, activity)
    result = _follow(app, session, activity, roadmap)
    _log(session, actor, activity, "added", None, _values(activity))
    return result


def move_activity(
    session: Session, actor: Actor, activity_id: int, section_id: int | None
) -> EditResult:
    """Put an activity in another section of its roadmap; its work is unchanged."""
    activity, roadmap = _activity(session, actor, activity_id)
    section = _section(session, roadmap, section_id)
    if activity.section_id == (section.id if section else None):
        return EditResult(activity.id, None, 0, 0, 0)
    before = {"section_id": activity.section_id}
    activity.section_id = section.id if section else None
    activity.part = section.part if section else activity.part
    _log(session, actor, activity, "moved", before, {"section_id": activity.section_id})
    return EditResult(activity.id, None, 0, 0, 0)


def remove_activity(app: App, session: Session, actor: Actor, activity_id: int) -> EditResult:
    """Remove an activity nobody has worked on, with its planned work; an activity with
    worked occurrences stays (nothing anyone did is ever lost)."""
    activity, _ = _activity(session, actor, activity_id)
    query = select(Occurrence.id).where(Occurrence.activity_id == activity.id)
    ids = list(session.execute(query).scalars())
    initial = app.registry.for_subject(SubjectKind.OCCURRENCE).definition.initial
    removable = untouched(session, initial, ids)
    worked = len(ids) - len(removable)
    if worked:
        raise ConflictError(
            f"activity {activity.number} has {worked} occurrence(s) already worked on; "
            "it stays (change its deadline instead)",
            reason="activity_worked_on",
        )
    _log(session, actor, activity, "removed", _values(activity), None)
    if removable:
        session.execute(delete(Occurrence).where(Occurrence.id.in_(removable)))
    session.execute(delete(Indicator).where(Indicator.activity_id == activity.id))
    session.delete(activity)
    session.flush()
    return EditResult(None, None, 0, len(removable), 0)


@dataclass(frozen=True)
class Change:
    """One logged change, for the roadmap page."""

    at: datetime
    who: str
    action: str
    label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def roadmap_changes(session: Session, roadmap_id: int, limit: int = 200) -> list[Change]:
    """The changes of a roadmap since its import, newest first (the caller checked reach)."""
    rows = session.execute(
        select(ActivityChange, User.full_name)
        .join(User, User.id == ActivityChange.user_id)
        .where(ActivityChange.roadmap_id == roadmap_id)
        .order_by(ActivityChange.id.desc())
        .limit(limit)
    ).all()
    return [Change(c.at, name, c.action, c.label, c.before, c.after) for c, name in rows]
