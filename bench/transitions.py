"""Transition throughput: the engine, the raw-SQL floor and SpiffWorkflow, side by side.

Each occurrence goes start → report → approve, one transaction per transition.
- engine: `engine.lifecycle.fire.fire` in a unit of work (tenant and role checks, guards, the
  guarded UPDATE, the log row, notifications);
- floor: the least a correct system must do, a guarded UPDATE plus an INSERT of the log row in
  one transaction, on the bare driver;
- SpiffWorkflow: the same lifecycle as a BPMN process, its serialized state read and written
  back on every step (bench/spiff.py).
The three take turns, round after round, on the same database: PostgreSQL with the shared data
set (1 and 8 connections) and an in-memory SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine, select

import workflows
from bench import spiff
from bench.clock import YESTERDAY
from bench.spread import spread
from engine.accounts.access import Actor, load_actor
from engine.accounts.users import hash_password
from engine.db import make_engine, unit_of_work
from engine.lifecycle.definition import SubjectKind, WorkflowRegistry
from engine.lifecycle.fire import fire
from engine.migrate import upgrade
from engine.models import (
    Activity,
    CuratorAssignment,
    Occurrence,
    Organization,
    Roadmap,
    Role,
    User,
)
from engine.readmodels.tally import refresh
from engine.work.roadmaps import add_occurrences

#: (trigger, from state, to state, who fires it)
STEPS = (
    ("start", "planned", "in_progress", "school"),
    ("report", "in_progress", "reported", "school"),
    ("approve", "reported", "approved", "curator"),
)
FLOOR_UPDATE = (
    "UPDATE occurrence SET state = {p}, version = version + 1, updated_at = {p} "
    "WHERE id = {p} AND state = {p} AND version = {p}"
)
FLOOR_LOG = (
    "INSERT INTO transition_log (occurrence_id, from_state, to_state, trigger, "
    "actor_id, at, workflow_name, workflow_version) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 'activity', 1)"
)

#: (occurrence id, school login, curator login)
Item = tuple[int, str, str]

REGISTRY = WorkflowRegistry(workflows.DEFINITIONS, workflows.GUARDS)


@dataclass
class Store:
    """One database as the three contenders reach it."""

    label: str
    engine: Engine
    connect: Callable[[], Any]  # a bare driver connection
    placeholder: str
    begin: str | None  # what opens a writing transaction on the bare driver, if not implicit


def _split(items: list, parts: int) -> list[list]:
    return [items[n::parts] for n in range(parts)]


def _timed(work: Callable[[list], None], chunks: list[list]) -> float:
    """Seconds for threads to work through `chunks`, one thread per chunk."""
    errors: list[BaseException] = []

    def guarded(chunk: list) -> None:
        try:
            work(chunk)
        except BaseException as error:  # reported after the join, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def engine_round(store: Store, items: list[Item], actors: dict[str, Actor], conns: int) -> float:
    """Seconds for the engine to take `items` through the lifecycle."""

    def work(chunk: list[Item]) -> None:
        for occurrence, school, curator in chunk:
            for trigger, _, _, who in STEPS:
                with unit_of_work(store.engine) as session:
                    fire(
                        session,
                        REGISTRY,
                        SubjectKind.OCCURRENCE,
                        occurrence,
                        trigger,
                        actors[school if who == "school" else curator],
                        report_text="готово" if trigger == "report" else None,
                    )

    return _timed(work, _split(items, conns))


def floor_round(store: Store, items: list[Item], actor_ids: dict[str, int], conns: int) -> float:
    """Seconds for the bare guarded UPDATE + log INSERT to take `items` through."""
    update = FLOOR_UPDATE.format(p=store.placeholder)
    log = FLOOR_LOG.format(p=store.placeholder)
    sqlite = store.placeholder == "?"

    def work(chunk: list[Item]) -> None:
        conn = store.connect()
        try:
            cur = conn.cursor()
            for occurrence, school, curator in chunk:
                for version, (trigger, source, dest, who) in enumerate(STEPS, start=1):
                    now = datetime.now(UTC)
                    at = now.isoformat() if sqlite else now
                    actor = actor_ids[school if who == "school" else curator]
                    if store.begin:
                        cur.execute(store.begin)
                    cur.execute(update, (dest, at, occurrence, source, version))
                    if cur.rowcount != 1:
                        raise RuntimeError(f"floor: occurrence {occurrence} was not {source}")
                    cur.execute(log, (occurrence, source, dest, trigger, actor, at))
                    conn.commit()
        finally:
            conn.close()

    return _timed(work, _split(items, conns))


def spiff_round(store: Store, instances: list[int], conns: int) -> float:
    """Seconds for SpiffWorkflow to take `instances` through their three user tasks."""
    lifecycle = spiff.SpiffLifecycle()

    def work(chunk: list[int]) -> None:
        conn = store.connect()
        try:
            for instance in chunk:
                for n in range(len(spiff.STEPS)):
                    spiff.step(conn, store.placeholder, store.begin, lifecycle, instance, n)
        finally:
            conn.close()

    return _timed(work, _split(instances, conns))


def compare(store: Store, items: list[Item], rounds: int, conns: int) -> dict[str, Any]:
    """Engine, floor and SpiffWorkflow in turns: a warm-up round of each, then `rounds`
    rounds; the median transitions per second of each, with its range, and the median of the
    per-round ratios, with theirs."""
    per_round = len(items) // (2 * (rounds + 1))
    with unit_of_work(store.engine, readonly=True) as session:
        logins = {login for _, school, curator in items for login in (school, curator)}
        actors = {login: load_actor(session, login) for login in logins}
    actor_ids = {login: actor.id for login, actor in actors.items()}
    conn = store.connect()
    instances = spiff.create_instances(
        conn,
        store.placeholder,
        per_round * (rounds + 1),
        spiff.SpiffLifecycle().new_instance(),
    )
    conn.close()
    each = len(STEPS) * per_round
    rates: dict[str, list[float]] = {"engine": [], "floor": [], "spiff": []}
    for r in range(rounds + 1):  # round 0 warms the caches, the pools and the statements up
        mine = items[2 * r * per_round : (2 * r + 1) * per_round]
        floors = items[(2 * r + 1) * per_round : (2 * r + 2) * per_round]
        took = {
            "engine": engine_round(store, mine, actors, conns),
            "floor": floor_round(store, floors, actor_ids, conns),
            "spiff": spiff_round(store, instances[r * per_round : (r + 1) * per_round], conns),
        }
        if r:
            for name, seconds in took.items():
                rates[name].append(each / seconds)
    conn = store.connect()
    completed = spiff.count_completed(conn, store.placeholder, instances)
    conn.close()
    if completed != len(instances):
        raise RuntimeError(f"SpiffWorkflow completed {completed} of {len(instances)} instances")
    over_floor = [e / f for e, f in zip(rates["engine"], rates["floor"], strict=True)]
    over_spiff = [e / s for e, s in zip(rates["engine"], rates["spiff"], strict=True)]
    return {
        **{name: spread(values) for name, values in rates.items()},
        "engine_over_floor": spread(over_floor),
        "engine_over_spiff": spread(over_spiff),
        "rounds": rounds,
        "transitions_each_round": each,
        "spiff_instances_completed": completed,
    }


def postgres_items(url: str, count: int, skip: int = 0) -> list[Item]:
    """Planned future occurrences of the data set, with the logins that may move them."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT o.id, su.login, cu.login FROM occurrence o "
            "JOIN app_user su ON su.organization_id = o.assignee_id AND su.role = 'school' "
            "JOIN curator_school cs ON cs.school_id = o.assignee_id "
            "JOIN app_user cu ON cu.id = cs.curator_id AND cu.login LIKE 'curator%%' "
            "WHERE o.state = 'planned' AND o.due_on > %s ORDER BY o.id OFFSET %s LIMIT %s",
            (YESTERDAY + timedelta(days=30), skip, count),
        ).fetchall()


def _sqlite_world(engine: Engine, schools: int, per_school: int) -> list[Item]:
    """A small region in SQLite: schools with staff, a curator per ten, occurrences."""
    secret = hash_password("bench-password")
    with unit_of_work(engine) as session:
        region = Organization(kind="region", name="Регион")
        session.add(region)
        session.flush()
        municipality = Organization(kind="municipality", name="Район", parent_id=region.id)
        session.add(municipality)
        session.flush()
        roadmap = Roadmap(
            title="Бенчмарк",
            level="municipal",
            owner_id=municipality.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        )
        session.add(roadmap)
        session.flush()
        activity = Activity(
            roadmap_id=roadmap.id, number="1", title="Мероприятие", deadline_text=""
        )
        session.add(activity)
        session.flush()
        ids = []
        for n in range(schools):
            school = Organization(kind="school", name=f"Школа {n}", parent_id=municipality.id)
            session.add(school)
            session.flush()
            session.add(
                User(
                    login=f"school{n}",
                    full_name="Директор",
                    password_hash=secret,
                    role=Role.SCHOOL,
                    organization_id=school.id,
                )
            )
            if n % 10 == 0:
                curator = User(
                    login=f"curator{n // 10}",
                    full_name="Куратор",
                    password_hash=secret,
                    role=Role.CURATOR,
                )
                session.add(curator)
                session.flush()
            session.add(CuratorAssignment(curator_id=curator.id, school_id=school.id))
            ids.append(school.id)
        lifecycle = REGISTRY.for_subject("occurrence")
        days = [date(2026, 4, 1) + timedelta(days=d) for d in range(per_school)]
        add_occurrences(session, lifecycle, activity.id, ids, days)
        rows = session.execute(
            select(Occurrence.id, Occurrence.assignee_id).order_by(Occurrence.id)
        ).all()
    index = {school: n for n, school in enumerate(ids)}
    return [(occ, f"school{index[s]}", f"curator{index[s] // 10}") for occ, s in rows]


def run(url: str, per_round: int, rounds: int) -> dict[str, dict[str, Any]]:
    """The comparison on PostgreSQL (1 and 8 connections) and on an in-memory SQLite."""
    results = {}
    need = 2 * per_round * (rounds + 1)
    engine = make_engine(url, pool_size=10)
    for n, conns in enumerate((1, 8)):
        store = Store(
            f"PostgreSQL, {conns} connection{'s' if conns > 1 else ''}",
            engine,
            lambda: psycopg.connect(url),
            "%s",
            None,
        )
        items = postgres_items(url, need, skip=n * need)
        results[store.label] = compare(store, items, rounds, conns)
    engine.dispose()

    memory = "file:roadmap_bench?mode=memory&cache=shared"
    keeper = sqlite3.connect(memory, uri=True)  # keeps the shared in-memory database alive
    try:

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(memory, uri=True, isolation_level=None, check_same_thread=False)

        engine = make_engine("sqlite://", creator=connect)
        upgrade(engine)
        items = _sqlite_world(engine, 50, max(1, need // 50 + 1))
        with unit_of_work(engine) as session:  # a current tally: each transition moves it
            refresh(session, date.today())
        store = Store("SQLite in memory, 1 connection", engine, connect, "?", "BEGIN IMMEDIATE")
        results[store.label] = compare(store, items[:need], rounds, 1)
        engine.dispose()
    finally:
        keeper.close()
    return results
