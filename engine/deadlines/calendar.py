"""Working days by the Russian production calendar, open to local overrides."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import holidays
from sqlalchemy import select
from sqlmodel import Session

from engine.models import CalendarOverride

#: The production calendar, shared: `holidays` works a year out the first time it is asked,
#: and a page asking about many days should not do that again on every request.
_RUSSIA = holidays.Russia()


class WorkCalendar:
    """Which days are working days: `holidays`' Russia (moved days off and working Saturdays
    included), then local overrides, which win."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._country = _RUSSIA
        self._overrides = dict(overrides or {})
        self._known: dict[date, bool] = {}  # days already looked up: lists ask for many

    @classmethod
    def load(cls, session: Session) -> WorkCalendar:
        """The calendar with the overrides stored in the database."""
        rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_working))
        return cls({day: working for day, working in rows})

    def is_working_day(self, day: date) -> bool:
        """Whether people work on `day`."""
        known = self._known.get(day)
        if known is None:
            known = self._overrides.get(day)
            if known is None:
                known = self._country.is_working_day(day)
            self._known[day] = known
        return known

    def add_working_days(self, day: date, count: int) -> date:
        """The date `count` working days after `day` (`day` itself not counted)."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_left(self, today: date, deadline: date) -> int:
        """Working days from `today` to `deadline`: negative, the working days it is past."""
        sign, low, high = (1, today, deadline) if deadline >= today else (-1, deadline, today)
        count, day = 0, low
        while day < high:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return sign * count

    def working_days_left_many(self, today: date, deadlines: set[date]) -> dict[date, int]:
        """`working_days_left` for many deadlines in one walk over the days they span."""
        if not deadlines:
            return {}
        low, high = min(min(deadlines), today), max(max(deadlines), today)
        counted, running, day = {low: 0}, 0, low
        while day < high:  # working days in (low, day], for every day of the span
            day += timedelta(days=1)
            running += self.is_working_day(day)
            counted[day] = running
        return {deadline: counted[deadline] - counted[today] for deadline in deadlines}

    def latest_due_escalated(self, today: date, after: int) -> date:
        """The latest due date whose deadline plus `after` working days is already past.

        Escalation at `after` working days is due for every occurrence due on or before it.
        """
        day = today - timedelta(days=1)
        while self.add_working_days(day, after) >= today:
            day -= timedelta(days=1)
        return day


def set_override(session: Session, day: date, *, is_working: bool, note: str | None) -> None:
    """Mark `day` a working day or a day off, over the production calendar."""
    row = session.get(CalendarOverride, day)
    if row is None:
        session.add(CalendarOverride(day=day, is_working=is_working, note=note))
    else:
        row.is_working, row.note = is_working, note
    session.flush()
