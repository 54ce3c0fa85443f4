"""The demo: the region, people and roadmap the README promises, moved to this year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.accounts.users import verify_password
from engine.db import unit_of_work
from engine.demo import DEMO_PASSWORD, academic_year_start, load_demo
from engine.models import Activity, Occurrence, Organization, TransitionLog, User


def test_academic_year_starts_in_september() -> None:
    assert academic_year_start(date(2024, 8, 31)) == 2023
    assert academic_year_start(date(2024, 9, 1)) == 2024


def test_demo_contents(db, registry) -> None:
    with unit_of_work(db) as session:
        logins = load_demo(session, registry, date(2026, 11, 23))
    assert [d.login for d in logins] == [
        "school1",
        "school2",
        "school3",
        "school4",
        "school5",
        "curator1",
        "curator2",
        "coordinator",
        "regional",
        "admin",
    ]
    with unit_of_work(db, readonly=True) as session:
        kinds = dict(
            session.execute(
                select(Organization.kind, func.count()).group_by(Organization.kind)
            ).all()
        )
        assert kinds == {"region": 1, "municipality": 1, "school": 5}
        for user in session.execute(select(User)).scalars():
            assert verify_password(user, DEMO_PASSWORD)
            assert not verify_password(user, "wrong password")
        assert session.execute(select(func.count()).select_from(Activity)).scalar_one() == 15
        due = session.execute(
            select(func.min(Occurrence.due_on), func.max(Occurrence.due_on), func.count())
        ).one()
        assert due == (date(2026, 9, 30), date(2027, 8, 31), 155)
        states = dict(
            session.execute(select(Occurrence.state, func.count()).group_by(Occurrence.state)).all()
        )
        assert states == {
            "planned": 151,
            "in_progress": 1,
            "reported": 1,
            "returned": 1,
            "approved": 1,
        }
        assert session.execute(select(func.count()).select_from(TransitionLog)).scalar_one() == 9


def test_demo_schedules_match_its_due_dates(db, registry) -> None:
    """The parser, run on the demo's deadline texts, gives the dates entered by hand."""
    from engine.deadlines.parser import Schedule

    with unit_of_work(db) as session:
        load_demo(session, registry, date(2026, 11, 23))
    with unit_of_work(db, readonly=True) as session:
        for activity in session.execute(select(Activity)).scalars():
            dates = sorted(
                set(
                    session.execute(
                        select(Occurrence.due_on).where(Occurrence.activity_id == activity.id)
                    ).scalars()
                )
            )
            schedule = Schedule.from_dict(activity.schedule)
            if dates:
                assert list(schedule.due) == dates, activity.number
