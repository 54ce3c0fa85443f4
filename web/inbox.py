"""Everyone's inbox of notifications."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.db import as_id
from engine.models import utcnow
from engine.notices.inbox import Message, mark_read, message_of, render
from engine.notices.inbox import inbox as inbox_ids
from web.context import application, settings, today, user_zone, work
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
    zone, now_day = user_zone(), today()
    days: list[tuple[str, list[Message]]] = []
    for message in messages:
        day = message.created_at.astimezone(zone).date()
        name = day_name(day, now_day)
        if not days or days[-1][0] != name:
            days.append((name, []))
        days[-1][1].append(message)
    return render_template(
        "inbox.html",
        days=days,
        messages=messages,
        unread_only=unread_only,
        page=page,
        has_more=len(ids) == PER_PAGE,
    )


def day_name(day: date, now_day: date) -> str:
    """«Сегодня», «Вчера», else the date."""
    if day == now_day:
        return _("Сегодня")
    if day == now_day - timedelta(days=1):
        return _("Вчера")
    return format_date(day, "d MMMM yyyy")


@bp.get("/inbox/<int:notification_id>")
@login_required
def open_notice(notification_id: int):  # type: ignore[no-untyped-def]
    """Mark one notice read and go to what it is about."""
    with work() as db:
        message = message_of(db, application().registry, current_user.id, notification_id)
        mark_read(db, current_user.id, [notification_id], utcnow())
    return redirect(message.path, code=303)


@bp.post("/inbox/read")
@login_required
def read():  # type: ignore[no-untyped-def]
    """Mark the given (or all shown) notifications read."""
    ids = [i for v in request.form.getlist("id") if (i := as_id(v)) is not None]
    with work() as db:
        mark_read(db, current_user.id, ids, utcnow())
    return redirect(url_for("inbox.inbox"), code=303)
