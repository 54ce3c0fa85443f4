"""The curator's queue: oldest first, against the review deadline; approve or return, in bulk."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.deadlines.calendar import WorkCalendar
from engine.lifecycle.definition import SubjectKind
from engine.readmodels.directory import curated_schools
from engine.readmodels.review import review_queue
from engine.readmodels.worklist import school_for, task_list
from engine.usecases.review import approve_many
from web.context import actor, application, today, user_zone, work
from web.messages import russian
from web.occurrences import PER_PAGE, page_number

bp = Blueprint("review", __name__)


@bp.get("/queue")
@login_required
def queue():  # type: ignore[no-untyped-def]
    """«Очередь на проверку»: everything reported or submitted by the curator's schools."""
    app = application()
    with work(readonly=True) as db:
        page = review_queue(app, db, actor(), page=page_number(), per_page=PER_PAGE)
        calendar = WorkCalendar.load(db)
        schools = curated_schools(db, actor().id) if current_user.curates else []
    zone = user_zone()
    now_day = today()
    items = []
    for item in page.rows:
        since = item.waiting_since.astimezone(zone).date()
        deadline = calendar.add_working_days(since, item.review_days)
        items.append((item, since, deadline, (deadline - now_day).days))
    days = app.policies.for_subject(SubjectKind.OCCURRENCE).review_days
    return render_template("queue.html", page=page, items=items, review_days=days, schools=schools)


@bp.post("/queue/approve")
@login_required
def bulk_approve():  # type: ignore[no-untyped-def]
    """Approve the chosen items, each checked and fired on its own; report what happened."""
    result = approve_many(application(), actor(), request.form.getlist("item"))
    if result.approved:
        flash(_("Одобрено: %(n)s.", n=result.approved), "success")
    for raw_id, error in result.refused:
        flash(f"№{raw_id}: {russian(error)}", "error")
    return redirect(url_for("review.queue"), code=303)


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int):  # type: ignore[no-untyped-def]
    """One school's page for its curator (and coordinators): its tasks and how they stand."""
    with work(readonly=True) as db:
        org = school_for(db, actor(), school_id)
        page, overdue = task_list(
            application(),
            db,
            actor(),
            today(),
            school_id=school_id,
            page=page_number(),
            per_page=PER_PAGE,
        )
    definition = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    return render_template(
        "school.html", school=org, page=page, overdue=overdue, definition=definition
    )
