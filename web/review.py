"""The curator's desk: the queue filtered and sorted, approval in bulk after a confirmation
that names what was never opened, and «Мои школы»."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.db import as_id
from engine.lifecycle.definition import SubjectKind
from engine.readmodels.directory import curated_schools
from engine.readmodels.progress import SchoolProgress, dashboard, documents_by_school
from engine.readmodels.review import SORTS, review_queue
from engine.readmodels.worklist import school_for, task_list
from engine.usecases.review import approve_many
from web.context import actor, application, today, user_zone, work
from web.desk import desk_filter, queue_url, remember_filter
from web.messages import russian
from web.occurrences import PER_PAGE, page_number

bp = Blueprint("review", __name__)


@bp.get("/queue")
@login_required
def queue():  # type: ignore[no-untyped-def]
    """«Очередь на проверку»: what the curator's schools sent, filtered, sorted, paged."""
    app = application()
    kept = remember_filter()
    narrow = desk_filter(request.args)
    with work(readonly=True) as db:
        page = review_queue(
            app,
            db,
            actor(),
            today=today(),
            zone=user_zone(),
            narrow=narrow,
            page=page_number(),
            per_page=PER_PAGE,
        )
        schools = curated_schools(db, actor().id) if current_user.curates else []
    days = app.policies.for_subject(SubjectKind.OCCURRENCE).review_days
    return render_template(
        "queue.html",
        page=page,
        review_days=days,
        schools=schools,
        narrow=narrow,
        kept=kept,
        sorts=SORTS,
        kinds=list(SubjectKind),
    )


@bp.post("/queue/approve")
@login_required
def bulk_approve():  # type: ignore[no-untyped-def]
    """Approve the ticked items after a confirmation naming how many and how many were never
    opened; each is checked and fired on its own."""
    chosen = request.form.getlist("item")
    if not chosen:
        flash(_("Ничего не выбрано: отметьте задачи в очереди."), "error")
        return redirect(queue_url(), code=303)
    if request.form.get("confirmed") != "1":
        with work(readonly=True) as db:
            page = review_queue(
                application(),
                db,
                actor(),
                today=today(),
                zone=user_zone(),
                only=_by_kind(chosen),
                per_page=len(chosen),
            )
        return render_template(
            "queue_confirm.html",
            items=page.rows,
            unopened=sum(not item.opened for item in page.rows),
            back=queue_url(),
        )
    result = approve_many(application(), actor(), chosen)
    if result.approved:
        flash(
            _(
                "Одобрено: %(n)s. Школы получат уведомления; задачи ушли из очереди.",
                n=result.approved,
            ),
            "success",
        )
    for raw_id, error in result.refused:
        flash(f"№{raw_id}: {russian(error)}", "error")
    return redirect(queue_url(), code=303)


def _by_kind(items: list[str]) -> dict[SubjectKind, list[int]]:
    """`kind:id` items as ids by kind; malformed ones are left out."""
    found: dict[SubjectKind, list[int]] = {}
    for item in items[: PER_PAGE * 10]:
        kind, _sep, raw_id = item.partition(":")
        subject_id = as_id(raw_id)
        if kind in set(SubjectKind) and subject_id is not None:
            found.setdefault(SubjectKind(kind), []).append(subject_id)
    return found


@bp.get("/my-schools")
@login_required
def my_schools():  # type: ignore[no-untyped-def]
    """«Мои школы»: each school the user reaches, its progress, and what waits for a verdict."""
    app = application()
    with work(readonly=True) as db:
        progress, _sections = dashboard(app, db, actor(), today())
        papers = documents_by_school(app, db, actor())
        if current_user.curates:  # every assigned school, also one with no work yet
            known = {row.school_id: row for row in progress}
            schools = [
                known.get(school_id) or SchoolProgress(school_id, name, 0, 0, 0, 0, 0)
                for school_id, name in curated_schools(db, actor().id)
            ]
        else:
            schools = progress
        waiting = review_queue(app, db, actor(), zone=user_zone(), per_page=1).total
    return render_template("my_schools.html", schools=schools, papers=papers, waiting=waiting)


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int):  # type: ignore[no-untyped-def]
    """One school's page for its curator (and coordinators): its tasks and how they stand."""
    app = application()
    with work(readonly=True) as db:
        org = school_for(db, actor(), school_id)
        page, overdue = task_list(
            app,
            db,
            actor(),
            today(),
            school_id=school_id,
            page=page_number(),
            per_page=PER_PAGE,
        )
        schools, _sections = dashboard(app, db, actor(), today(), school_id=school_id)
    definition = app.registry.for_subject(SubjectKind.OCCURRENCE).definition
    return render_template(
        "school.html",
        school=org,
        page=page,
        overdue=overdue,
        definition=definition,
        progress=schools[0] if schools else None,
    )
