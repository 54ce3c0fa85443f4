"""Correcting a roadmap after import: changes are logged, and the work follows them by the
re-import rules (worked occurrences keep their state and history, planned ones move)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

import workflows
from engine.app import App
from engine.db import unit_of_work
from engine.deadlines.parser import Period
from engine.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from engine.importing.apply import import_roadmap
from engine.importing.sources import read_text
from engine.importing.structure import recover
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Activity, ActivityChange, Occurrence, Organization, Section
from engine.settings import Settings
from engine.usecases.roadmap_edits import (
    add_activity,
    edit_activity,
    move_activity,
    remove_activity,
    roadmap_changes,
)

AY = Period(date(2023, 9, 1), date(2024, 8, 31))
DOCUMENT = """\
| № | Мероприятие | Срок | Ответственный |
| 1. | Анализ результатов | | |
| 1.1 | Анализ ВПР по школам | ежеквартально | Руководители ОО |
| 1.2 | Совещание с директорами | до 1 октября 2023 | Отдел образования |
| 2. | Работа с педагогами | | |
| 2.1 | Курсы повышения квалификации | ноябрь 2023 | Руководители ОО |
"""


@pytest.fixture
def app(world):  # type: ignore[no-untyped-def]
    settings = replace(Settings.from_env({}), timezone="Europe/Moscow")
    built = App.build(settings, workflows.CATALOG, db=world.engine)
    return replace(built, clock=lambda: datetime(2023, 9, 20, 9, tzinfo=UTC))


@pytest.fixture
def roadmap_id(world, registry) -> int:  # type: ignore[no-untyped-def]
    draft = recover(read_text(DOCUMENT), "doc.txt", AY)
    with unit_of_work(world.engine) as session:
        municipality = session.get(Organization, world.municipality)
        return import_roadmap(session, registry, draft, municipality).roadmap_id


def _activity(world, roadmap_id: int, number: str) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(world.engine, readonly=True) as session:
        return session.execute(
            select(Activity.id).where(Activity.roadmap_id == roadmap_id, Activity.number == number)
        ).scalar_one()


def _work(world, activity_id: int) -> list[tuple[int, date, str]]:  # type: ignore[no-untyped-def]
    with unit_of_work(world.engine, readonly=True) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(Occurrence.assignee_id, Occurrence.due_on, Occurrence.state)
                .where(Occurrence.activity_id == activity_id)
                .order_by(Occurrence.assignee_id, Occurrence.due_on)
            )
        ]


def _start(world, registry, activity_id: int, due: date) -> str:  # type: ignore[no-untyped-def]
    """School A takes up its occurrence due on `due`; the state it is in now."""
    lifecycle = registry.for_subject(SubjectKind.OCCURRENCE)
    trigger = lifecycle.definition.triggers_from(lifecycle.definition.initial)[0]
    with unit_of_work(world.engine) as session:
        occurrence_id = session.execute(
            select(Occurrence.id).where(
                Occurrence.activity_id == activity_id,
                Occurrence.assignee_id == world.school_a,
                Occurrence.due_on == due,
            )
        ).scalar_one()
        result = fire(
            session,
            registry,
            SubjectKind.OCCURRENCE,
            occurrence_id,
            trigger,
            world.actor("school_a"),
        )
    return result.to_state


def test_a_new_deadline_moves_planned_work_and_keeps_worked_work(
    app, world, registry, roadmap_id
) -> None:
    activity = _activity(world, roadmap_id, "1.1")
    worked_state = _start(world, registry, activity, date(2023, 9, 30))
    with unit_of_work(world.engine) as session:
        result = edit_activity(
            app,
            session,
            world.actor("coord_m1"),
            activity,
            {"deadline_text": "ежемесячно, до 25 числа"},
        )
    assert result.schedule is not None and str(result.schedule.kind) == "recurring"
    work = _work(world, activity)
    a, b = world.school_a, world.school_b
    # the worked one stays as it is; the planned quarter ends went, the 25ths came
    assert (a, date(2023, 9, 30), worked_state) in work
    assert not any(due == date(2023, 12, 31) for _, due, _ in work)
    assert [due for who, due, _ in work if who == b] == [
        date(2023, 9, 25),
        *[date(y, m, 25) for y, m in [(2023, 10), (2023, 11), (2023, 12)]],
        *[date(2024, m, 25) for m in range(1, 9)],
    ]
    assert (result.removed, result.kept) == (7, 1)  # the worked one is kept, off schedule


def test_every_change_is_logged_with_who_when_before_and_after(
    app, world, registry, roadmap_id
) -> None:
    activity = _activity(world, roadmap_id, "1.2")
    coordinator = world.actor("coord_m1")
    with unit_of_work(world.engine) as session:
        edit_activity(app, session, coordinator, activity, {"title": "Совещание руководителей"})
        section = session.execute(
            select(Section.id).where(Section.roadmap_id == roadmap_id, Section.number == "2")
        ).scalar_one()
        move_activity(session, coordinator, activity, section)
        added = add_activity(
            app,
            session,
            coordinator,
            roadmap_id,
            {
                "number": "2.2",
                "title": "Открытые уроки",
                "deadline_text": "декабрь 2023",
                "responsible_text": "ОО",
            },
            section,
        )
    with unit_of_work(world.engine) as session:
        remove_activity(app, session, coordinator, added.activity_id)
        changes = roadmap_changes(session, roadmap_id)
    assert [(c.action, c.label[:12]) for c in changes] == [
        ("removed", "2.2 Открытые"),
        ("added", "2.2 Открытые"),
        ("moved", "1.2 Совещани"),
        ("edited", "1.2 Совещани"),
    ]
    edited = changes[-1]
    assert edited.who == "coord_m1" and edited.at is not None
    assert edited.before == {"title": "Совещание с директорами"}
    assert edited.after == {"title": "Совещание руководителей"}
    assert changes[1].after["deadline_text"] == "декабрь 2023"
    assert added.added == 2  # one occurrence for each school


def test_an_activity_with_worked_occurrences_cannot_be_removed(
    app, world, registry, roadmap_id
) -> None:
    activity = _activity(world, roadmap_id, "2.1")
    _start(world, registry, activity, date(2023, 11, 30))
    with unit_of_work(world.engine) as session, pytest.raises(ConflictError) as refused:
        remove_activity(app, session, world.actor("coord_m1"), activity)
    assert refused.value.reason == "activity_worked_on"
    assert len(_work(world, activity)) == 2
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(ActivityChange)).scalar() == 0


@pytest.mark.parametrize(
    ("login", "error"),
    [
        ("coord_m2", PermissionDeniedError),
        ("curator_a", PermissionDeniedError),
        ("regional", PermissionDeniedError),
    ],
)
def test_only_the_owners_coordinator_corrects_a_roadmap(
    app, world, roadmap_id, login, error
) -> None:
    activity = _activity(world, roadmap_id, "1.1")
    with unit_of_work(world.engine) as session, pytest.raises(error):
        edit_activity(app, session, world.actor(login), activity, {"title": "x"})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": "  "}, "title_required"),
        ({"title": "т" * 5_001}, "text_too_long"),
        ({"state": "x"}, None),
    ],
)
def test_bad_changes_are_refused_and_nothing_is_written(
    app, world, roadmap_id, changes, reason
) -> None:
    activity = _activity(world, roadmap_id, "1.1")
    before = _work(world, activity)
    with unit_of_work(world.engine) as session, pytest.raises(ValidationError) as refused:
        edit_activity(app, session, world.actor("coord_m1"), activity, changes)
    assert refused.value.reason == reason
    assert _work(world, activity) == before


def test_a_section_of_another_roadmap_is_not_found(app, world, roadmap_id) -> None:
    activity = _activity(world, roadmap_id, "1.1")
    with unit_of_work(world.engine) as session, pytest.raises(NotFoundError):
        move_activity(session, world.actor("coord_m1"), activity, 10_000)
