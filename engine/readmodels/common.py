"""Shared pieces of the read models: a page of a list, and the phases as SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_

from engine.app import App
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import (
    Occurrence,
)

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page:
    """One page of a list, with the numbers a pager needs."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def open_clause(app: App) -> ColumnElement[bool]:
    return Occurrence.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.OPEN))


def overdue_clause(app: App, today: date) -> ColumnElement[bool]:
    return and_(open_clause(app), Occurrence.due_on < today, Occurrence.history.is_(False))


def in_phase(app: App, phase: Phase, state: Any = Occurrence.state) -> ColumnElement[bool]:
    """True where `state` (an occurrence's, or a tally row's) is one of `phase`'s states."""
    return state.in_(app.states(SubjectKind.OCCURRENCE, phase))
