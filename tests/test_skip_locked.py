"""PostgreSQL's `FOR UPDATE SKIP LOCKED`: a sweep and a sender pass over a row another
transaction holds instead of waiting for it, and leave it for their next run. Each check
runs its worker on an engine with a short `lock_timeout`, so waiting shows as an error."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine.db import make_engine, unit_of_work
from engine.models import Notification, Occurrence
from engine.notices.outbox import deliver_pending
from tests.sweeping import levels, sweep_at

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def impatient(db_url):  # type: ignore[no-untyped-def]
    """An engine whose statements give up after a second spent waiting for a lock."""
    engine = make_engine(db_url, connect_args={"options": "-c lock_timeout=1000"})
    yield engine
    engine.dispose()


def _hold(engine, table, row_id: int):  # type: ignore[no-untyped-def]
    """An open transaction holding `row_id` of `table` locked; close it to release."""
    connection = engine.connect()
    connection.begin()
    connection.execute(select(table.id).where(table.id == row_id).with_for_update())
    return connection


def test_a_sweep_passes_over_a_held_occurrence_and_takes_it_next_time(world, impatient) -> None:
    held = _hold(world.engine, Occurrence, world.occurrence_a)
    try:
        first = sweep_at(impatient, "2024-04-01 10:00")
    finally:
        held.close()
    assert first.escalations[1] == 2  # the two it could take, without waiting
    assert levels(world.engine)[world.occurrence_a] == 0
    again = sweep_at(impatient, "2024-04-01 10:00")
    assert again.escalations[1] == 1 and levels(world.engine)[world.occurrence_a] == 1


def test_a_sender_passes_over_a_held_message(world, registry, impatient) -> None:
    sweep_at(world.engine, "2024-04-01 10:00")  # six notices waiting
    with unit_of_work(world.engine, readonly=True) as session:
        first = session.execute(select(Notification.id).order_by(Notification.id)).scalar()
    sent: list[str] = []
    held = _hold(world.engine, Notification, first)
    try:
        count = deliver_pending(impatient, registry, lambda m: sent.append(m.key), base_url="x:")
    finally:
        held.close()
    assert count == len(sent) == 5
    with unit_of_work(world.engine, readonly=True) as session:
        waiting = session.execute(
            select(Notification.id).where(Notification.emailed_at.is_(None))
        ).scalars()
        assert list(waiting) == [first]
        assert session.execute(text("SHOW lock_timeout")).scalar() != "1s"  # only the worker
