"""Helpers for deadline tests: sweeps at given instants, and what they wrote."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.db import unit_of_work
from engine.escalation.sweep import SweepResult, sweep
from engine.models import Escalation, Notification, Occurrence, User
from tests.factories import POLICIES

MSK = ZoneInfo("Europe/Moscow")


def at(text: str) -> datetime:
    """A Moscow wall-clock time: "2024-04-01 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


def sweep_at(engine, text: str, **kwargs) -> SweepResult:  # type: ignore[no-untyped-def]
    """One sweep as of a Moscow wall-clock time."""
    return sweep(engine, POLICIES, at(text), **kwargs)


def escalations(engine) -> list[tuple[int | None, str, int]]:  # type: ignore[no-untyped-def]
    """(occurrence, kind, level) of every escalation row, in order."""
    with unit_of_work(engine, readonly=True) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(Escalation.occurrence_id, Escalation.kind, Escalation.level).order_by(
                    Escalation.occurrence_id, Escalation.kind, Escalation.level
                )
            )
        ]


def told(engine, kind: str | None = None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(login, kind) of every notification, sorted."""
    with unit_of_work(engine, readonly=True) as session:
        query = select(User.login, Notification.kind).join(User)
        if kind:
            query = query.where(Notification.kind == kind)
        return sorted(tuple(r) for r in session.execute(query))


def levels(engine) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Escalation level of every occurrence."""
    with unit_of_work(engine, readonly=True) as session:
        return dict(session.execute(select(Occurrence.id, Occurrence.escalation_level)).all())
