"""Everyone's inbox of notifications."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.db import as_id
from engine.models import utcnow
from engine.notices.inbox import inbox as inbox_ids
from engine.notices.inbox import mark_read, render
from web.context import application, settings, work
from web.occurrences import page_number

bp = Blueprint("inbox", __name__)
PER_PAGE = 30


@bp.get("/inbox")
@login_required
def inbox():  # type: ignore[no-untyped-def]
    """Newest first, the same text as the e-mail."""
    unread_only = request.args.get("unread") == "1"
    page = page_number()
    with work(readonly=True) as db:
        ids = inbox_ids(
            db,
            current_user.id,
            unread_only=unread_only,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        messages = render(db, application().registry, ids, settings().public_url)
    messages.sort(key=lambda m: m.notification_id, reverse=True)
    return render_template(
        "inbox.html",
        messages=messages,
        unread_only=unread_only,
        page=page,
        has_more=len(ids) == PER_PAGE,
    )


@bp.post("/inbox/read")
@login_required
def read():  # type: ignore[no-untyped-def]
    """Mark the given (or all shown) notifications read."""
    ids = [i for v in request.form.getlist("id") if (i := as_id(v)) is not None]
    with work() as db:
        mark_read(db, current_user.id, ids, utcnow())
    return redirect(url_for("inbox.inbox"), code=303)
