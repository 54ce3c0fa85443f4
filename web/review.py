"""The curator's queue: oldest first, against the review deadline; approve or return, in bulk."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import workflows
from engine.access import can_reach
from engine.calendar import WorkCalendar
from engine.errors import DomainError
from engine.models import Organization, OrganizationKind
from engine.pages import review_queue, task_list
from engine.workflow import SubjectKind, fire
from web.context import actor, today, user_zone, work
from web.messages import russian
from web.tasks import PER_PAGE, page_number
from workflows.escalation import POLICIES

bp = Blueprint("review", __name__)


@bp.get("/queue")
@login_required
def queue():  # type: ignore[no-untyped-def]
    """«Очередь на проверку»: everything reported or submitted by the curator's schools."""
    with work(readonly=True) as db:
        page = review_queue(db, actor(), page=page_number(), per_page=PER_PAGE)
        calendar = WorkCalendar.load(db)
    days = POLICIES.defaults["activity"].review_days
    zone = user_zone()
    now_day = today()
    items = []
    for item in page.rows:
        since = item.waiting_since.astimezone(zone).date()
        deadline = calendar.add_working_days(since, days)
        items.append((item, since, deadline, (deadline - now_day).days))
    return render_template("queue.html", page=page, items=items, review_days=days)


@bp.post("/queue/approve")
@login_required
def bulk_approve():  # type: ignore[no-untyped-def]
    """Approve the chosen items, each checked and fired on its own; report what happened."""
    chosen = [value.split(":", 1) for value in request.form.getlist("item")]
    approved, refused = 0, []
    for kind, raw_id in chosen:
        if kind not in ("occurrence", "document") or not raw_id.isdigit():
            continue
        try:
            with work() as db:
                fire(db, workflows.REGISTRY, SubjectKind(kind), int(raw_id), "approve", actor())
            approved += 1
        except DomainError as error:
            refused.append(f"№{raw_id}: {russian(error)}")
    if approved:
        flash(_("Одобрено: %(n)s.", n=approved), "success")
    for line in refused:
        flash(line, "error")
    return redirect(url_for("review.queue"), code=303)


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int):  # type: ignore[no-untyped-def]
    """One school's page for its curator (and coordinators): its tasks and how they stand."""
    with work(readonly=True) as db:
        org = db.get(Organization, school_id)
        if (
            org is None
            or org.kind != OrganizationKind.SCHOOL
            or not can_reach(db, actor(), school_id)
        ):
            abort(404)
        page, overdue = task_list(
            db, actor(), today(), school_id=school_id, page=page_number(), per_page=PER_PAGE
        )
    definition = workflows.REGISTRY.current(workflows.ACTIVITY).definition
    return render_template(
        "school.html", school=org, page=page, overdue=overdue, definition=definition
    )
