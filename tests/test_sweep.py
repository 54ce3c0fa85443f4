"""The deadline sweep on both databases: reminders, levels, review deadlines, exactly once."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select, update

from engine.db import make_engine, unit_of_work
from engine.errors import PermissionDeniedError, ValidationError
from engine.escalation import board as escalation_service
from engine.escalation.sweep import SweepPaused
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Escalation, Notification, Occurrence, TransitionLog
from tests.factories import POLICIES, add_document, fire_as
from tests.sweeping import at, escalations, levels, sweep_at, told

# The world's occurrences are due on Sunday 31 March 2024 (tests/factories.py).
OCC = SubjectKind.OCCURRENCE


def test_reminder_three_working_days_before_and_only_once(world) -> None:
    assert sweep_at(world.engine, "2024-03-25 09:00").to_dict()["reminders"] == 0
    first = sweep_at(world.engine, "2024-03-27 09:00").to_dict()
    assert first == {
        "reminders": 3,
        "overdue": 0,
        "escalations": {"1": 0, "2": 0, "3": 0},
        "review_escalations": 0,
    }
    again = sweep_at(world.engine, "2024-03-27 09:00").to_dict()
    assert again == {
        "reminders": 0,
        "overdue": 0,
        "escalations": {"1": 0, "2": 0, "3": 0},
        "review_escalations": 0,
    }
    assert sweep_at(world.engine, "2024-03-29 09:00").reminders == 0
    assert told(world.engine, "reminder") == [
        ("school_a", "reminder"),
        ("school_b", "reminder"),
        ("school_c", "reminder"),
    ]


def test_levels_follow_working_days_after_the_due_date(world) -> None:
    # due Sunday 31 March: overdue from Monday 1 April
    assert sweep_at(world.engine, "2024-03-31 23:00").escalations[1] == 0
    assert sweep_at(world.engine, "2024-04-01 00:30").escalations == {1: 3, 2: 0, 3: 0}
    # level 2 five working days later: the due date + 5 working days is Friday 5 April
    assert sweep_at(world.engine, "2024-04-05 18:00").escalations[2] == 0
    assert sweep_at(world.engine, "2024-04-06 08:00").escalations == {1: 0, 2: 3, 3: 0}
    # level 3 five more working days: Friday 12 April
    assert sweep_at(world.engine, "2024-04-12 18:00").escalations[3] == 0
    assert sweep_at(world.engine, "2024-04-13 08:00").escalations == {1: 0, 2: 0, 3: 3}
    assert sweep_at(world.engine, "2024-06-01 08:00").to_dict()["escalations"] == {
        "1": 0,
        "2": 0,
        "3": 0,
    }
    assert set(levels(world.engine).values()) == {3}


def test_a_late_sweep_catches_up_on_every_level_once(world) -> None:
    result = sweep_at(world.engine, "2024-05-20 10:00")
    assert result.escalations == {1: 3, 2: 3, 3: 3}
    assert result.reminders == 0  # the reminder's moment has passed
    rows = escalations(world.engine)
    assert len(rows) == len(set(rows)) == 9


def test_who_is_told_at_each_level(world) -> None:
    sweep_at(world.engine, "2024-04-01 10:00")
    assert told(world.engine, "overdue") == sorted(
        [
            ("school_a", "overdue"),
            ("curator_a", "overdue"),
            ("school_b", "overdue"),
            ("curator_bc", "overdue"),
            ("school_c", "overdue"),
            ("curator_bc", "overdue"),
        ]
    )
    sweep_at(world.engine, "2024-04-08 10:00")
    level2 = [t for t in told(world.engine, "overdue") if t[0].startswith("coord")]
    assert level2 == [("coord_m1", "overdue"), ("coord_m1", "overdue"), ("coord_m2", "overdue")]
    sweep_at(world.engine, "2024-04-15 10:00")
    assert [t for t in told(world.engine) if t[0] == "regional"] == [("regional", "overdue")] * 3


def test_reported_work_stops_escalating(world, registry) -> None:
    sweep_at(world.engine, "2024-04-01 10:00")
    fire_as(world, registry, world.occurrence_a, "start", "school_a")
    fire_as(world, registry, world.occurrence_a, "report", "school_a", report_text="сделано")
    sweep_at(world.engine, "2024-05-20 10:00")
    assert levels(world.engine)[world.occurrence_a] == 1
    assert levels(world.engine)[world.occurrence_b] == 3


def test_review_deadline_escalates_the_curators_queue(world, registry) -> None:
    fire_as(world, registry, world.occurrence_a, "start", "school_a")
    with unit_of_work(world.engine) as session:
        fire(
            session,
            registry,
            OCC,
            world.occurrence_a,
            "report",
            world.actor("school_a"),
            report_text="сделано",
            now=__import__("tests.sweeping").sweeping.at("2024-03-20 12:00"),
        )
    # reported Wednesday 20 March; five working days: escalated from Thursday 28 March
    assert sweep_at(world.engine, "2024-03-27 20:00").review_escalations == 0
    assert sweep_at(world.engine, "2024-03-28 09:00").review_escalations == 1
    assert sweep_at(world.engine, "2024-03-29 09:00").review_escalations == 0
    assert told(world.engine, "review") == [("coord_m1", "review")]


def test_document_review_deadline(world, registry, tmp_path) -> None:
    from engine.work import evidence

    doc = add_document(world, registry, world.school_a)
    with unit_of_work(world.engine) as session:
        evidence.attach(
            session,
            registry,
            tmp_path,
            SubjectKind.DOCUMENT,
            doc,
            world.actor("school_a"),
            filename="д.pdf",
            data=b"%PDF-1.4",
            max_bytes=100,
        )
        fire(
            session,
            registry,
            SubjectKind.DOCUMENT,
            doc,
            "submit",
            world.actor("school_a"),
            now=__import__("tests.sweeping").sweeping.at("2024-03-01 12:00"),
        )
    assert sweep_at(world.engine, "2024-03-12 09:00").review_escalations == 1
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(select(Escalation.document_id)).scalar_one() == doc


def test_acknowledging_stops_the_next_level_and_is_logged(world) -> None:
    sweep_at(world.engine, "2024-04-01 10:00")
    with unit_of_work(world.engine, readonly=True) as session:
        esc_a = session.execute(
            select(Escalation.id).where(Escalation.occurrence_id == world.occurrence_a)
        ).scalar_one()
    with unit_of_work(world.engine) as session:
        with pytest.raises(ValidationError):
            escalation_service.acknowledge(session, world.actor("coord_m1"), esc_a, " ")
        with pytest.raises(PermissionDeniedError):
            escalation_service.acknowledge(session, world.actor("coord_m2"), esc_a, "видим")
        with pytest.raises(PermissionDeniedError):
            escalation_service.acknowledge(session, world.actor("school_a"), esc_a, "видим")
    with unit_of_work(world.engine) as session:
        escalation_service.acknowledge(
            session, world.actor("coord_m1"), esc_a, "Директор болеет, отчёт будет к 10 апреля"
        )
    sweep_at(world.engine, "2024-05-20 10:00")
    assert levels(world.engine)[world.occurrence_a] == 1
    assert levels(world.engine)[world.occurrence_b] == 3
    with unit_of_work(world.engine, readonly=True) as session:
        log = session.execute(
            select(TransitionLog.trigger, TransitionLog.comment).where(
                TransitionLog.occurrence_id == world.occurrence_a
            )
        ).one()
        opened = escalation_service.open_escalations(session, POLICIES)
    assert log.trigger == "acknowledge" and "Директор болеет" in log.comment
    assert {e.occurrence_id for e in opened} == {world.occurrence_b, world.occurrence_c}
    assert {e.level for e in opened} == {3}


def test_extending_restarts_escalation_and_is_logged(world) -> None:
    sweep_at(world.engine, "2024-04-08 10:00")
    assert levels(world.engine)[world.occurrence_a] == 2
    with unit_of_work(world.engine) as session:
        with pytest.raises(ValidationError, match="requires a reason"):
            escalation_service.extend_deadline(
                session, world.actor("coord_m1"), world.occurrence_a, date(2024, 4, 30), ""
            )
        with pytest.raises(ValidationError, match="after the current"):
            escalation_service.extend_deadline(
                session, world.actor("coord_m1"), world.occurrence_a, date(2024, 3, 1), "x"
            )
    with unit_of_work(world.engine) as session:
        escalation_service.extend_deadline(
            session,
            world.actor("coord_m1"),
            world.occurrence_a,
            date(2024, 4, 30),
            "Перенос по болезни",
        )
    assert sweep_at(world.engine, "2024-04-20 10:00").escalations == {1: 0, 2: 0, 3: 2}  # b, c
    assert levels(world.engine)[world.occurrence_a] == 0  # stopped: a new due date
    # past the new date it escalates again, from level 1, as a new cycle
    assert sweep_at(world.engine, "2024-05-02 10:00").escalations[1] == 1
    with unit_of_work(world.engine, readonly=True) as session:
        cycles = session.execute(
            select(Escalation.level, Escalation.cycle)
            .where(Escalation.occurrence_id == world.occurrence_a)
            .order_by(Escalation.id)
        ).all()
        log = session.execute(
            select(TransitionLog.comment).where(
                TransitionLog.occurrence_id == world.occurrence_a, TransitionLog.trigger == "extend"
            )
        ).scalar_one()
    assert [tuple(c) for c in cycles] == [(1, 0), (2, 0), (1, 1)]
    assert log == "срок 31.03.2024 → 30.04.2024: Перенос по болезни"


def test_a_municipality_can_change_its_policy(world) -> None:
    with unit_of_work(world.engine) as session:
        POLICIES.set_override(session, world.other_municipality, "activity", municipal_after_days=1)
    sweep_at(world.engine, "2024-04-03 10:00")  # due 31 March + 1 working day = 1 April
    assert levels(world.engine) == {
        world.occurrence_a: 1,
        world.occurrence_b: 1,
        world.occurrence_c: 2,
    }


@pytest.mark.postgres_only
def test_two_sweeps_at_once_share_the_work(world, db_url) -> None:
    """Thousands of occurrences, two sweepers racing: every step happens exactly once."""
    from engine.work.roadmaps import add_occurrences
    from tests.factories import REGISTRY

    due_dates = [date(2024, 1, 1) + __import__("datetime").timedelta(days=d) for d in range(60)]
    with unit_of_work(world.engine) as session:
        add_occurrences(
            session,
            REGISTRY.for_subject("occurrence"),
            world.activity,
            [world.school_a, world.school_b, world.school_c],
            due_dates,
        )
    results = []
    engines = [make_engine(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(engine) -> None:
        barrier.wait()
        results.append(sweep_at(engine, "2024-05-20 10:00", batch_size=25))

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    total = sum(r.escalations[1] for r in results)
    rows = escalations(world.engine)
    with unit_of_work(world.engine, readonly=True) as session:
        overdue = session.execute(
            select(func.count())
            .select_from(Occurrence)
            .where(Occurrence.due_on < date(2024, 5, 20))
        ).scalar_one()
    assert len(rows) == len(set(rows))
    assert total == overdue == len([r for r in rows if r[2] == 1])
    assert all(r.escalations[1] > 0 for r in results), "both sweepers took a share"
    assert sum(r.notifications for r in results) == len(told(world.engine))


def test_unscheduled_and_cancelled_work_is_never_escalated(world, registry) -> None:
    with unit_of_work(world.engine) as session:
        session.execute(
            update(Occurrence).where(Occurrence.id == world.occurrence_a).values(due_on=None)
        )
    fire_as(world, registry, world.occurrence_b, "cancel", "coord_m1", comment="не нужно")
    sweep_at(world.engine, "2024-05-20 10:00")
    assert levels(world.engine) == {
        world.occurrence_a: 0,
        world.occurrence_b: 0,
        world.occurrence_c: 3,
    }


def test_an_escalation_already_recorded_is_not_written_twice(world) -> None:
    """The escalation's unique key settles it: a row already there for this cycle and level
    (written by a sweep whose level update was lost, or by hand) is left alone, and nobody is
    told again."""
    with unit_of_work(world.engine) as session:
        session.add(
            Escalation(
                occurrence_id=world.occurrence_a,
                kind="overdue",
                level=1,
                cycle=0,
                due_on=date(2024, 3, 31),
                created_at=at("2024-04-01 00:10"),
            )
        )
    result = sweep_at(world.engine, "2024-04-01 09:00")
    assert result.escalations[1] == 2  # schools B and C; A's row was there already
    assert escalations(world.engine).count((world.occurrence_a, "overdue", 1)) == 1
    assert levels(world.engine)[world.occurrence_a] == 1
    told_a = [login for login, kind in told(world.engine, "overdue") if login == "school_a"]
    assert told_a == []


def test_levels_skip_a_public_holiday(world) -> None:
    """Due Friday 16 February 2024; Friday 23 February is a day off in Russia, so the fifth
    working day after is Monday 26 February and level 2 comes on the 27th, not the 24th."""
    with unit_of_work(world.engine) as session:
        session.execute(update(Occurrence).values(due_on=date(2024, 2, 16)))
    assert sweep_at(world.engine, "2024-02-19 09:00").escalations[1] == 3
    assert sweep_at(world.engine, "2024-02-24 08:00").escalations[2] == 0
    assert sweep_at(world.engine, "2024-02-26 18:00").escalations[2] == 0
    assert sweep_at(world.engine, "2024-02-27 08:00").escalations[2] == 3


def test_a_first_sweep_on_the_due_day_still_reminds(world) -> None:
    assert sweep_at(world.engine, "2024-03-31 10:00").reminders == 3
    assert set(levels(world.engine).values()) == {0}  # a reminder raises no level


def test_small_batches_do_and_count_the_same_work(world, registry) -> None:
    """The sweep claims its work in batches: the counts and rows must not depend on their size."""
    whole = sweep_at(world.engine, "2024-05-20 10:00", batch_size=2000)
    rows, mails = escalations(world.engine), told(world.engine)
    with unit_of_work(world.engine) as session:
        session.execute(Notification.__table__.delete())
        session.execute(Escalation.__table__.delete())
        session.execute(Occurrence.__table__.update().values(escalation_level=0))
    piecewise = sweep_at(world.engine, "2024-05-20 10:00", batch_size=1)
    assert piecewise.to_dict() == whole.to_dict() and escalations(world.engine) == rows
    assert piecewise.notifications == whole.notifications == len(mails) > 0
    assert told(world.engine) == mails and whole.escalations == {1: 3, 2: 3, 3: 3}


def test_a_reminder_comes_on_the_last_day_of_its_window_not_before(world) -> None:
    with unit_of_work(world.engine) as session:  # due Wednesday 3 April, a working day
        session.execute(update(Occurrence).values(due_on=date(2024, 4, 3)))
    assert sweep_at(world.engine, "2024-03-28 10:00").reminders == 0  # 3 working days: 2 April
    assert sweep_at(world.engine, "2024-03-29 10:00").reminders == 3  # 3 working days: 3 April


@pytest.mark.parametrize(
    ("reported", "late_on"), [("2024-03-20 23:59", 28), ("2024-03-21 00:00", 29)]
)
def test_the_review_deadline_counts_from_the_local_day_of_the_report(
    world, registry, reported: str, late_on: int
) -> None:
    fire_as(world, registry, world.occurrence_a, "start", "school_a")
    with unit_of_work(world.engine) as session:
        fire(session, registry, OCC, world.occurrence_a, "report", world.actor("school_a"),
             report_text="сделано", now=at(reported))  # fmt: skip
    assert sweep_at(world.engine, f"2024-03-{late_on - 1} 20:00").review_escalations == 0
    assert sweep_at(world.engine, f"2024-03-{late_on} 09:00").review_escalations == 1


def test_a_sweep_out_of_time_stops_between_batches_and_the_next_does_the_rest(world) -> None:
    sweep_at(world.engine, "2024-05-20 10:00")
    rows, mails = escalations(world.engine), told(world.engine)
    with unit_of_work(world.engine) as session:
        session.execute(Notification.__table__.delete())
        session.execute(Escalation.__table__.delete())
        session.execute(Occurrence.__table__.update().values(escalation_level=0))
    parts = 0
    while True:  # each part's time is up at once: it does one batch and stops
        parts += 1
        try:
            sweep_at(world.engine, "2024-05-20 10:00", batch_size=1, until=time.monotonic())
            break
        except SweepPaused as paused:
            assert paused.result.batches == 1
            assert len(escalations(world.engine)) <= parts <= len(rows)
    assert parts > len(rows)  # one escalation per part, then a part that finds nothing left
    assert escalations(world.engine) == rows and told(world.engine) == mails
    assert sweep_at(world.engine, "2024-05-20 10:00").escalations == {1: 0, 2: 0, 3: 0}
