"""A coordinator imports a roadmap document into their own municipality, now or as a job.

A job is a row of `import_job` and a file under `<upload_dir>/queued/`. Whoever runs it (the
Celery worker, or a thread of the web process when there is no Redis) claims it with a
compare-and-set, reads the document, and writes the roadmap and the job's result in one
transaction: a job that dies half-way leaves nothing written and is queued again later.
A job that is done keeps its file: the document its roadmap came from, to download.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import Session

from engine.accounts.access import Actor, Power, load_actor, require_power
from engine.app import App
from engine.db import on_rollback, unit_of_work
from engine.errors import DomainError, NotFoundError, PermissionDeniedError
from engine.importing.apply import ImportReport, import_roadmap, preview_roadmap
from engine.importing.arrival import (
    Arrival,
    PastDue,
    Warning,
    arrival_warnings,
    territory_warnings,
)
from engine.importing.corrections import Corrections, read_corrected
from engine.importing.structure import RoadmapDraft
from engine.models import ImportJob, ImportStatus, Organization, OrganizationKind, User, utcnow

log = logging.getLogger(__name__)

#: Where queued documents wait, apart from the previews the cleanup removes.
QUEUE_DIR = "queued"

RUNNING = (ImportStatus.READING, ImportStatus.WRITING)


def import_into_own_municipality(
    app: App, session: Session, actor: Actor, draft: RoadmapDraft, arrival: Arrival | None = None
) -> ImportReport:
    """Write `draft` as a roadmap of the actor's municipality, in the caller's transaction;
    past-due work as `arrival` says (as history, by default)."""
    return import_roadmap(
        session,
        app.registry,
        draft,
        _own_municipality(session, actor),
        arrival=arrival or Arrival(local_today(app)),
    )


def local_today(app: App) -> date:
    """Today where the schools are: the day work arrives on."""
    return app.clock().astimezone(ZoneInfo(app.settings.timezone)).date()


def look_before_writing(
    app: App,
    session: Session,
    draft: RoadmapDraft,
    municipality: Organization | None,
    arrival: Arrival,
) -> tuple[ImportReport, list[Warning]]:
    """What importing `draft` into `municipality` would write, and what the coordinator
    must acknowledge first; nothing is written."""
    report = preview_roadmap(session, app.registry, draft, municipality, arrival)
    warnings: list[Warning] = []
    if municipality is not None:
        region = (
            session.get(Organization, municipality.parent_id) if municipality.parent_id else None
        )
        warnings += territory_warnings(
            draft.title, municipality.name, region.name if region else None
        )
    warnings += arrival_warnings(
        draft.period.end, arrival.today, report.summary(), report.dated_added
    )
    return report, warnings


def preview_own(
    app: App, session: Session, actor: Actor, draft: RoadmapDraft
) -> tuple[ImportReport, list[Warning]]:
    """`look_before_writing` into the actor's own municipality, as of today."""
    arrival = Arrival(local_today(app))
    return look_before_writing(app, session, draft, _own_municipality(session, actor), arrival)


def _own_municipality(session: Session, actor: Actor) -> Organization:
    require_power(actor, Power.IMPORT, "roadmaps")
    municipality = (
        session.get(Organization, actor.organization_id) if actor.organization_id else None
    )
    if municipality is None or municipality.kind != OrganizationKind.MUNICIPALITY:
        raise PermissionDeniedError(
            f"{actor.login} belongs to no municipality to import a roadmap into"
        )
    return municipality


def queue_dir(app: App) -> Path:
    path = app.settings.upload_dir / QUEUE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def queue_import(
    app: App,
    session: Session,
    actor: Actor,
    document: Path,
    file_name: str,
    past_due: PastDue = PastDue.HISTORY,
    moved_to: date | None = None,
    corrections: Corrections | None = None,
) -> int:
    """Queue `document` (moved under the queue directory) for import; the job's id.
    Past-due work is handled as `past_due` says when the job runs, and the preview's
    `corrections` are applied to what it reads."""
    municipality = _own_municipality(session, actor)
    Arrival(local_today(app), past_due, moved_to)  # refuse a bad choice now, not in the job
    stored = queue_dir(app) / document.name
    job = ImportJob(
        user_id=actor.id,
        owner_id=municipality.id,
        file_name=file_name[:300],
        stored_as=stored.name,
        past_due=str(past_due),
        past_due_on=moved_to,
        corrections=corrections.to_dict() if corrections else None,
    )
    document.replace(stored)
    on_rollback(session, lambda: stored.unlink(missing_ok=True))  # no file without its row
    session.add(job)
    session.flush()
    return job.id  # type: ignore[return-value]


def import_job(session: Session, actor: Actor, job_id: int) -> ImportJob | None:
    """The job, if `actor` may see it: its own, or one into the actor's municipality."""
    job = session.get(ImportJob, job_id)
    if job is None or (job.user_id != actor.id and job.owner_id != actor.organization_id):
        return None
    return job


@dataclass(frozen=True)
class Source:
    """A document a roadmap was imported from (the first import, or a later one)."""

    job_id: int
    file_name: str
    imported_at: datetime | None
    by: str


def roadmap_sources(session: Session, roadmap_id: int) -> list[Source]:
    """The documents of a roadmap, newest first (the caller checked reach)."""
    rows = session.execute(
        select(ImportJob.id, ImportJob.file_name, ImportJob.finished_at, User.full_name)
        .join(User, User.id == ImportJob.user_id)
        .where(ImportJob.roadmap_id == roadmap_id, ImportJob.status == ImportStatus.DONE)
        .order_by(ImportJob.id.desc())
    ).all()
    return [Source(r.id, r.file_name, r.finished_at, r.full_name) for r in rows]


def source_document(
    app: App, session: Session, roadmap_id: int, job_id: int
) -> tuple[Source, Path]:
    """One document of a roadmap and its file on disk; NotFoundError if there is none."""
    found = next((s for s in roadmap_sources(session, roadmap_id) if s.job_id == job_id), None)
    job = session.get(ImportJob, job_id)
    path = queue_dir(app) / job.stored_as if job else None
    if found is None or path is None or not path.is_file():
        raise NotFoundError(f"roadmap {roadmap_id} has no document {job_id}")
    return found, path


def claim_next(app: App) -> int | None:
    """Take the oldest queued job for this process (compare-and-set), or None."""
    while True:
        with unit_of_work(app.db) as session:
            job_id = session.execute(
                select(ImportJob.id)
                .where(ImportJob.status == ImportStatus.QUEUED)
                .order_by(ImportJob.id)
                .limit(1)
            ).scalar()
            if job_id is None:
                return None
            taken = session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.QUEUED)
                .values(status=ImportStatus.READING, started_at=utcnow())
            ).rowcount
        if taken:
            return job_id


def run_import(app: App, job_id: int) -> str:
    """Read and write one claimed job; its final status."""
    with unit_of_work(app.db, readonly=True) as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return ImportStatus.FAILED
        path = queue_dir(app) / job.stored_as
        user_id = job.user_id
        choice = PastDue(job.past_due or PastDue.HISTORY), job.past_due_on
        corrections = Corrections.from_dict(job.corrections)
    done = False
    try:
        draft = read_corrected(path, corrections)
        _note(app, job_id, status=ImportStatus.WRITING, activities=len(draft.activities))
        with unit_of_work(app.db) as session:
            login = session.execute(select(User.login).where(User.id == user_id)).scalar_one()
            actor = load_actor(session, login)
            today = local_today(app)
            moved_to = choice[1] if choice[1] is None or choice[1] >= today else today
            arrival = Arrival(today, choice[0], moved_to)
            report = import_into_own_municipality(app, session, actor, draft, arrival)
            _finish(  # with the roadmap, in its transaction: done means written
                session,
                job_id,
                status=ImportStatus.DONE,
                roadmap_id=report.roadmap_id,
                created=report.created,
                occurrences_added=report.occurrences_added,
            )
        done = True
    except DomainError as error:
        _note(app, job_id, status=ImportStatus.FAILED, error=str(error), finished_at=utcnow())
        return ImportStatus.FAILED
    except Exception:  # noqa: BLE001 - the job says it failed; the log has the traceback
        log.exception("import job %s failed", job_id)
        message = "the import stopped on an internal error; nothing was written"
        _note(app, job_id, status=ImportStatus.FAILED, error=message, finished_at=utcnow())
        return ImportStatus.FAILED
    finally:
        if not done:  # a roadmap keeps the document it came from; a failed job leaves none
            path.unlink(missing_ok=True)
    return ImportStatus.DONE


def run_queued(app: App) -> int:
    """Run every queued job, oldest first; how many ran."""
    ran = 0
    while (job_id := claim_next(app)) is not None:
        run_import(app, job_id)
        ran += 1
    return ran


def requeue_stale(app: App, started_before: datetime) -> int:
    """Queue again the jobs whose runner died (started long ago, never finished)."""
    with unit_of_work(app.db) as session:
        return session.execute(
            update(ImportJob)
            .where(ImportJob.status.in_(RUNNING), ImportJob.started_at < started_before)
            .values(status=ImportStatus.QUEUED, started_at=None)
        ).rowcount


def _finish(session: Session, job_id: int, **values: object) -> None:
    session.execute(
        update(ImportJob).where(ImportJob.id == job_id).values(finished_at=utcnow(), **values)
    )


def _note(app: App, job_id: int, **values: object) -> None:
    with unit_of_work(app.db) as session:
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))
