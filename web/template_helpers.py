"""Filters and globals for templates: Russian dates, state labels, unread counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import format_date, gettext
from flask_login import current_user

from engine.db import single_read
from engine.importing.indicators import DIRECTION_WORDS, UNIT_WORDS, plain_number, target_words
from engine.lifecycle.definition import Event, SubjectKind
from engine.notices.inbox import unread_count
from engine.readmodels.rounds import Mark
from web.context import application, engine, subject_url, user_zone
from web.messages import N_

ROLE_NAMES = {
    "school": N_("Школа"),
    "curator": N_("Куратор"),
    "municipal_coordinator": N_("Муниципальный координатор"),
    "regional_coordinator": N_("Региональный координатор"),
    "admin": N_("Администратор"),
}

#: The curator's queue: what an item is, and the orders it can be sorted in.
KIND_NAMES = {
    SubjectKind.OCCURRENCE.value: N_("задачи"),
    SubjectKind.DOCUMENT.value: N_("документы"),
    SubjectKind.SUBMISSION.value: N_("мониторинг"),
}
#: How an indicator stands against its target (engine.readmodels.rounds.Mark).
MARK_NAMES = {
    Mark.ON_TRACK: N_("в графике"),
    Mark.AT_RISK: N_("под угрозой"),
    Mark.OFF_TRACK: N_("отстаёт"),
}
#: How a list names an item that is not an occurrence, before its title.
SUBJECT_PREFIX = {
    SubjectKind.DOCUMENT.value: N_("Документ:"),
    SubjectKind.SUBMISSION.value: N_("Мониторинг:"),
}
SORT_NAMES = {
    "oldest": N_("сначала давние"),
    "newest": N_("сначала новые"),
    "school": N_("по школе"),
    "title": N_("по названию"),
}

#: The escalation board's orders.
BOARD_SORT_NAMES = {
    "due": N_("по сроку"),
    "level": N_("по уровню"),
    "school": N_("по школе"),
    "newest": N_("сначала новые"),
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


def next_action(state: str) -> str | None:
    """The label of what the signed-in user would do next on an occurrence in `state`: the
    first rule they may fire from it that does not end the work (cancel)."""
    definition = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    for trigger in definition.triggers_from(state):
        rule = definition.rule(trigger, state)
        if rule and current_user.role in rule.roles and rule.emphasis != "danger":
            return rule.label
    return None


def history_action(entry: Any, definition: Any) -> str:
    """A history row's action: «Запланировано → В работе», or what was done that left the
    state as it was («срок продлён»)."""
    if entry.trigger in set(Event):
        return gettext(Event(entry.trigger).notice)
    before, after = definition.state_label(entry.from_state), definition.state_label(entry.to_state)
    return f"{gettext(before)} → {gettext(after)}"


SCOPE_NAMES = {"municipality": N_("муниципалитет в целом"), "school": N_("каждая школа")}


def ru_number(value: float | None) -> str:
    """80.0 → «80», 12.5 → «12,5»; nothing for no value."""
    return "" if value is None else plain_number(value)


def target_text(value: float | None, unit: str | None, direction: str | None) -> str:
    """An indicator's target as people write it: «не менее 80 %»."""
    return "" if value is None else target_words(value, unit, direction, gettext)


def dict_without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    """`values` without `keys` (a link's query string with one filter dropped)."""
    return {key: value for key, value in values.items() if key not in keys}


def register(app: Flask) -> None:
    """Install the filters and the context processor."""
    app.add_template_filter(ru_date, "ru_date")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(file_size, "size")
    app.add_template_filter(next_action, "next_action")
    app.add_template_global(history_action, "history_action")
    app.add_template_filter(dict_without, "dict_without")
    app.add_template_filter(ru_number, "ru_number")
    app.add_template_global(target_text, "target_text")
    app.add_template_global(subject_url, "subject_url")

    @app.context_processor
    def common():  # type: ignore[no-untyped-def]
        unread = 0
        if current_user.is_authenticated:
            with single_read(engine()) as connection:  # on every page: one round trip
                unread = unread_count(connection, current_user.id)
        return {
            "unread": unread,
            "role_names": ROLE_NAMES,
            "kind_names": KIND_NAMES,
            "subject_prefix": SUBJECT_PREFIX,
            "mark_names": MARK_NAMES,
            "sort_names": SORT_NAMES,
            "board_sort_names": BOARD_SORT_NAMES,
            "direction_names": DIRECTION_WORDS,
            "unit_names": UNIT_WORDS,
            "scope_names": SCOPE_NAMES,
        }
