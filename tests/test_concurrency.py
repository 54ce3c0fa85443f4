"""Concurrent transitions: the database, not the in-memory machine, picks the one winner."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

import engine.lifecycle.fire as workflow_module
from engine.db import make_engine, unit_of_work
from engine.errors import ConflictError, DomainError
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import TransitionLog
from tests.factories import World

OCC = SubjectKind.OCCURRENCE


def _reported(world: World, registry) -> int:
    occ = world.occurrence_a
    for trigger in ("start", "report"):
        with unit_of_work(world.engine) as session:
            fire(session, registry, OCC, occ, trigger, world.actor("school_a"), report_text="ок")
    return occ


def _approvals(world: World, occ: int) -> int:
    with unit_of_work(world.engine, readonly=True) as session:
        return session.execute(
            select(func.count()).where(
                TransitionLog.occurrence_id == occ, TransitionLog.trigger == "approve"
            )
        ).scalar_one()


@pytest.mark.postgres_only
def test_two_connections_approving_at_once_one_wins(world, registry, db_url, monkeypatch):
    """A holds its approval uncommitted; B reads the old state, blocks, then loses."""
    occ = _reported(world, registry)
    curator = world.actor("curator_a")
    second = make_engine(db_url)  # a second pool: really two connections
    b_read = threading.Event()
    outcome: dict[str, object] = {}

    real_read = workflow_module.read_standing

    def read_and_signal(connection, kind, subject_id, actor):
        standing = real_read(connection, kind, subject_id, actor)
        b_read.set()
        return standing

    def approve_in_b() -> None:
        try:
            with unit_of_work(second) as session:
                outcome["b"] = fire(session, registry, OCC, occ, "approve", curator)
        except DomainError as error:
            outcome["b"] = error

    with unit_of_work(world.engine) as session_a:
        fire(session_a, registry, OCC, occ, "approve", curator)
        monkeypatch.setattr(workflow_module, "read_standing", read_and_signal)  # B's read only
        thread = threading.Thread(target=approve_in_b)
        thread.start()
        assert b_read.wait(10), "B never read the occurrence"
        thread.join(0.5)
        assert thread.is_alive(), "B should be blocked on A's row lock"
    thread.join(10)
    second.dispose()
    assert isinstance(outcome["b"], ConflictError)
    assert _approvals(world, occ) == 1
    assert world.state(occ) == "approved"


@pytest.mark.postgres_only
def test_twenty_racing_approvals_one_success(world: World, registry, db_url, monkeypatch):
    """Every racer reads 'reported' before any writes; still exactly one approval lands."""
    occ = _reported(world, registry)
    curator = world.actor("curator_a")
    racers = 20
    barrier = threading.Barrier(racers, timeout=20)
    real_read = workflow_module.read_standing

    def read_then_wait(connection, kind, subject_id, actor):
        standing = real_read(connection, kind, subject_id, actor)
        barrier.wait()  # all twenty have read the same state and version
        return standing

    monkeypatch.setattr(workflow_module, "read_standing", read_then_wait)
    engine = make_engine(db_url, pool_size=racers, max_overflow=0)

    def approve() -> str:
        try:
            with unit_of_work(engine) as session:
                fire(session, registry, OCC, occ, "approve", curator)
            return "won"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(lambda _: approve(), range(racers)))
    engine.dispose()
    assert results.count("won") == 1
    assert results.count("conflict") == racers - 1
    assert _approvals(world, occ) == 1


@pytest.mark.sqlite_only
def test_sqlite_writers_queue_instead_of_failing(world: World, registry, db_url) -> None:
    """With BEGIN IMMEDIATE, racing writers wait their turn: no 'database is locked'."""
    occ = _reported(world, registry)
    curator = world.actor("curator_a")
    engines = [make_engine(db_url) for _ in range(6)]
    barrier = threading.Barrier(len(engines), timeout=20)

    def approve(engine) -> str:
        barrier.wait()
        try:
            with unit_of_work(engine) as session:
                fire(session, registry, OCC, occ, "approve", curator)
            return "won"
        except DomainError:
            return "refused"

    with ThreadPoolExecutor(len(engines)) as pool:
        results = list(pool.map(approve, engines))
    for engine in engines:
        engine.dispose()
    assert sorted(results) == ["refused"] * 5 + ["won"]
    assert _approvals(world, occ) == 1


@pytest.mark.sqlite_only
def test_sqlite_write_transaction_takes_the_lock_at_begin(db, db_url) -> None:
    """A unit of work holds SQLite's write lock from its start, before any write."""
    import sqlite3

    with unit_of_work(db) as session:
        session.execute(select(1))  # a read only: the transaction has begun
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with unit_of_work(db, readonly=True):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # readers do not block writers
        other.execute("ROLLBACK")
        other.close()
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
