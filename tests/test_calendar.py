"""Working days by the Russian production calendar, with local overrides."""

from __future__ import annotations

from datetime import date

import pytest

from engine.deadlines.calendar import WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # the New Year holidays: 1–8 January 2024 are days off
        (date(2023, 12, 29), 1, date(2024, 1, 9)),
        (date(2023, 12, 28), 2, date(2024, 1, 9)),
        # 27 April 2024 (Saturday) was worked, for the day off moved to 29 April
        (date(2024, 4, 26), 1, date(2024, 4, 27)),
        (date(2024, 4, 27), 1, date(2024, 5, 2)),
        # an ordinary week: Friday + 1 = Monday
        (date(2024, 3, 15), 1, date(2024, 3, 18)),
        (date(2024, 3, 15), 0, date(2024, 3, 15)),
        # 8 March (Friday) is a holiday
        (date(2024, 3, 7), 1, date(2024, 3, 11)),
        # the New Year of 2025, and 31 December 2024 moved off
        (date(2024, 12, 27), 2, date(2025, 1, 9)),
    ],
)
def test_adding_working_days(start: date, count: int, expected: date) -> None:
    assert CAL.add_working_days(start, count) == expected


def test_moved_days_off_and_worked_saturdays() -> None:
    assert not CAL.is_working_day(date(2024, 4, 29))  # moved day off (Monday)
    assert CAL.is_working_day(date(2024, 11, 2))  # worked Saturday
    assert not CAL.is_working_day(date(2024, 11, 4))  # Unity Day
    assert not CAL.is_working_day(date(2024, 3, 16))  # plain Saturday


def test_local_overrides_win() -> None:
    local = WorkCalendar({date(2024, 3, 18): False, date(2024, 3, 16): True})
    assert local.add_working_days(date(2024, 3, 15), 1) == date(2024, 3, 16)
    assert local.add_working_days(date(2024, 3, 16), 1) == date(2024, 3, 19)


@pytest.mark.parametrize("after", [0, 1, 5, 10])
@pytest.mark.parametrize("today", [date(2024, 1, 9), date(2024, 5, 2), date(2024, 3, 18)])
def test_latest_due_escalated_is_the_exact_boundary(today: date, after: int) -> None:
    latest = CAL.latest_due_escalated(today, after)
    assert CAL.add_working_days(latest, after) < today
    following = date.fromordinal(latest.toordinal() + 1)
    assert CAL.add_working_days(following, after) >= today


def test_working_days_left_for_many_deadlines_in_one_walk() -> None:
    from datetime import date, timedelta

    from engine.deadlines.calendar import WorkCalendar

    calendar = WorkCalendar({date(2026, 12, 5): True})  # a Saturday worked
    today = date(2026, 12, 2)
    deadlines = {today + timedelta(days=k) for k in range(-400, 60, 3)} | {today, date(2026, 12, 7)}
    many = calendar.working_days_left_many(today, deadlines)
    assert many == {d: calendar.working_days_left(today, d) for d in deadlines}
    assert many[today] == 0 and many[date(2026, 12, 7)] == 4  # 3, 4, 5 (worked), 7
    assert calendar.working_days_left(today, date(2026, 11, 30)) == -2  # 1 and 2 December
