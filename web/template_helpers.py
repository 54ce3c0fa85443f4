"""Filters and globals for templates: Russian dates, state labels, unread counts."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, gettext
from flask_login import current_user

from engine.db import single_read
from engine.lifecycle.definition import SubjectKind
from engine.notices.inbox import unread_count
from web.context import application, engine, user_zone
from web.messages import N_

ROLE_NAMES = {
    "school": N_("Школа"),
    "curator": N_("Куратор"),
    "municipal_coordinator": N_("Муниципальный координатор"),
    "regional_coordinator": N_("Региональный координатор"),
    "admin": N_("Администратор"),
}


def ru_date(value: date | datetime | None, long: bool = False) -> str:
    """23.11.2026, or «23 ноября 2026»; times in the user's zone."""
    if value is None:
        return "без срока"
    if isinstance(value, datetime):
        value = value.astimezone(user_zone())
        if not long:
            return value.strftime("%d.%m.%Y %H:%M")
        value = value.date()
    if long:
        return format_date(value, "d MMMM yyyy")
    return value.strftime("%d.%m.%Y")


def file_size(size: int) -> str:
    """12 Б, 340 КБ, 2.5 МБ."""
    if size < 1024:
        return f"{size} Б"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} КБ"
    return f"{size / 1024 / 1024:.1f} МБ"


def state_label(state: str) -> str:
    """The Russian name of an activity state."""
    return gettext(
        application().registry.for_subject(SubjectKind.OCCURRENCE).definition.state_label(state)
    )


def register(app: Flask) -> None:
    """Install the filters and the context processor."""
    app.add_template_filter(ru_date, "ru_date")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(file_size, "size")

    @app.context_processor
    def common():  # type: ignore[no-untyped-def]
        unread = 0
        if current_user.is_authenticated:
            with single_read(engine()) as connection:  # on every page: one round trip
                unread = unread_count(connection, current_user.id)
        return {"unread": unread, "role_names": ROLE_NAMES}
