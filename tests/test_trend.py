"""The dashboard's approvals per week: counted in SQL, Monday to Sunday where the reader is,
twelve weeks back, within the reader's territory (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.accounts.access import load_actor
from engine.db import unit_of_work
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.readmodels.progress import weekly_approvals
from engine.readmodels.tally import counts_days, refresh
from tests.conftest import DEMO_DAY
from tests.factories import REGISTRY, app_for
from tests.test_desk import send_for_review

MOSCOW = ZoneInfo("Europe/Moscow")


def weeks(db, login: str) -> dict:
    with unit_of_work(db) as session:
        actor = load_actor(session, login)
        return dict(weekly_approvals(app_for(db), session, actor, DEMO_DAY, MOSCOW))


@pytest.mark.parametrize("tallied", [False, True], ids=["log", "daily"])
def test_approvals_count_in_the_week_where_the_reader_is(demo, tallied) -> None:
    """From the log, or (on PostgreSQL) from the daily counts the tally's trigger keeps."""
    monday = DEMO_DAY - timedelta(days=DEMO_DAY.weekday())
    with unit_of_work(demo) as session:
        if tallied:
            refresh(session, DEMO_DAY, MOSCOW.key)
        postgresql = session.get_bind().dialect.name == "postgresql"
        assert counts_days(session, DEMO_DAY, MOSCOW.key) is (tallied and postgresql)
    before, unassigned = weeks(demo, "coordinator"), weeks(demo, "curator2")
    assert list(before) == [monday - timedelta(weeks=n) for n in range(11, -1, -1)]
    reported = send_for_review(demo, "school1", 4)
    local_midnight = datetime.combine(monday, datetime.min.time(), MOSCOW).astimezone(UTC)
    moments = [
        local_midnight + timedelta(minutes=30),  # Monday 00:30 in Moscow, Sunday in UTC
        local_midnight - timedelta(minutes=30),  # Sunday 23:30 in Moscow: the week before
        local_midnight - timedelta(weeks=11, minutes=30),  # before the twelve weeks
        local_midnight - timedelta(weeks=11) + timedelta(minutes=30),  # the first week
    ]
    with unit_of_work(demo) as session:
        curator = load_actor(session, "curator1")
        for occurrence, moment in zip(reported, moments, strict=True):
            fire(
                session,
                REGISTRY,
                SubjectKind.OCCURRENCE,
                occurrence,
                "approve",
                curator,
                now=moment,
            )
    after = weeks(demo, "coordinator")
    added = {week: after[week] - before[week] for week in after if after[week] != before[week]}
    assert added == {
        monday: 1,
        monday - timedelta(weeks=1): 1,
        monday - timedelta(weeks=11): 1,
    }
    assert weeks(demo, "curator2") == unassigned  # school1 is not among curator2's schools
