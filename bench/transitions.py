"""Benchmark: transition throughput of the engine against the raw-SQL floor.

Each occurrence goes start → report → approve, one transaction per transition. The engine
path runs `engine.workflow.fire` (tenant and role checks, guards, the guarded UPDATE, the log
row, notifications). The floor is the least a correct system must do: a guarded UPDATE plus
an INSERT of the log row, in one transaction, on the bare driver. Both run in the same
process on the same database: PostgreSQL with 1 and 8 connections, and in-memory SQLite.

    python -m bench.transitions [--occurrences 1500]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import psycopg
from sqlalchemy import Engine, select

import workflows
from bench.sweep import ADMIN
from engine.access import load_actor
from engine.accounts import hash_password
from engine.db import make_engine, unit_of_work
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
from engine.roadmaps import add_occurrences
from engine.workflow import SubjectKind, fire

NAME = "roadmap_bench_transitions"
RESULTS = Path(__file__).with_name("results-transitions.json")
STEPS = (
    ("start", "planned", "in_progress", "school"),
    ("report", "in_progress", "reported", "school"),
    ("approve", "reported", "approved", "curator"),
)


def _world(engine: Engine, schools: int, per_school: int) -> list[tuple[int, str, str]]:
    """Schools with one staff member each, a curator per ten schools, and occurrences.

    Returns (occurrence, school login, curator login) for every occurrence."""
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
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
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
                    login=f"s{n}",
                    full_name="Директор",
                    password_hash=secret,
                    role=Role.SCHOOL,
                    organization_id=school.id,
                )
            )
            if n % 10 == 0:
                session.add(
                    User(
                        login=f"c{n // 10}",
                        full_name="Куратор",
                        password_hash=secret,
                        role=Role.CURATOR,
                    )
                )
            session.flush()
            curator = session.execute(
                select(User.id).where(User.login == f"c{n // 10}")
            ).scalar_one()
            session.add(CuratorAssignment(curator_id=curator, school_id=school.id))
            ids.append(school.id)
        lifecycle = workflows.REGISTRY.current("activity")
        days = [
            date(2024, 1, 1).fromordinal(date(2024, 1, 1).toordinal() + d)
            for d in range(per_school)
        ]
        add_occurrences(session, lifecycle, activity.id, ids, days)
        rows = session.execute(
            select(Occurrence.id, Occurrence.assignee_id).order_by(Occurrence.id)
        ).all()
    index = {school: n for n, school in enumerate(ids)}
    return [(occ, f"s{index[school]}", f"c{index[school] // 10}") for occ, school in rows]


def _split(items: list, parts: int) -> list[list]:
    return [items[n::parts] for n in range(parts)]


def _timed(work: Callable[[list], None], chunks: list[list]) -> float:
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def engine_run(engine: Engine, work_items: list[tuple[int, str, str]], connections: int) -> float:
    """Transitions per second through the engine."""
    with unit_of_work(engine, readonly=True) as session:
        actors = {
            login: load_actor(session, login)
            for _, school, curator in work_items
            for login in (school, curator)
        }

    def work(chunk: list) -> None:
        for occurrence, school, curator in chunk:
            for trigger, _, _, who in STEPS:
                with unit_of_work(engine) as session:
                    fire(
                        session,
                        workflows.REGISTRY,
                        SubjectKind.OCCURRENCE,
                        occurrence,
                        trigger,
                        actors[school if who == "school" else curator],
                        report_text="готово" if trigger == "report" else None,
                    )

    seconds = _timed(work, _split(work_items, connections))
    return 3 * len(work_items) / seconds


FLOOR_UPDATE = (
    "UPDATE occurrence SET state = {p}, version = version + 1, updated_at = {p} "
    "WHERE id = {p} AND state = {p} AND version = {p}"
)
FLOOR_LOG = (
    "INSERT INTO transition_log (occurrence_id, from_state, to_state, trigger, "
    "actor_id, at, workflow_name, workflow_version) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 'activity', 1)"
)


def floor_run(
    connect: Callable[[], object],
    placeholder: str,
    work_items: list,
    connections: int,
    actor_ids: dict[str, int],
) -> float:
    """Transitions per second for the bare guarded UPDATE + log INSERT."""
    update = FLOOR_UPDATE.format(p=placeholder)
    log = FLOOR_LOG.format(p=placeholder)

    def work(chunk: list) -> None:
        conn = connect()
        try:
            for occurrence, school, curator in chunk:
                for version, (trigger, source, dest, who) in enumerate(STEPS, start=1):
                    now = datetime.now(UTC).isoformat() if placeholder == "?" else datetime.now(UTC)
                    actor = actor_ids[school if who == "school" else curator]
                    cur = conn.cursor()
                    if placeholder == "?":
                        cur.execute("BEGIN IMMEDIATE")
                    cur.execute(update, (dest, now, occurrence, source, version))
                    assert cur.rowcount == 1
                    cur.execute(log, (occurrence, source, dest, trigger, actor, now))
                    conn.commit()
        finally:
            conn.close()

    seconds = _timed(work, _split(work_items, connections))
    return 3 * len(work_items) / seconds


def _actor_ids(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine, readonly=True) as session:
        return dict(session.execute(select(User.login, User.id)).all())


def _fresh_postgres() -> tuple[Engine, str]:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{NAME}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=10)
    upgrade(engine)
    return engine, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occurrences", type=int, default=1500)
    args = parser.parse_args()
    schools = 50
    per_school = max(1, args.occurrences // schools)
    results: dict[str, dict[str, float]] = {}

    for connections in (1, 8):
        engine, url = _fresh_postgres()
        items = _world(engine, schools, per_school)
        half = len(items) // 2
        rate = engine_run(engine, items[:half], connections)
        floor = floor_run(
            partial(psycopg.connect, url), "%s", items[half:], connections, _actor_ids(engine)
        )
        label = f"PostgreSQL, {connections} connection" + ("s" if connections > 1 else "")
        results[label] = {"engine": rate, "floor": floor}
        engine.dispose()

    memory = "file:bench?mode=memory&cache=shared"
    keeper = sqlite3.connect(memory, uri=True)  # keeps the shared in-memory database alive
    engine = make_engine(
        "sqlite://", creator=lambda: sqlite3.connect(memory, uri=True, check_same_thread=False)
    )
    upgrade(engine)
    items = _world(engine, schools, per_school)
    half = len(items) // 2
    rate = engine_run(engine, items[:half], 1)

    def connect_sqlite() -> sqlite3.Connection:
        conn = sqlite3.connect(memory, uri=True, isolation_level=None)
        conn.isolation_level = None
        original_commit = conn.commit

        class Wrapped:
            def cursor(self):  # noqa: ANN202
                return conn.cursor()

            def commit(self) -> None:
                conn.execute("COMMIT")

            def close(self) -> None:
                conn.close()

        del original_commit
        return Wrapped()  # type: ignore[return-value]

    floor = floor_run(connect_sqlite, "?", items[half:], 1, _actor_ids(engine))
    results["SQLite in memory, 1 connection"] = {"engine": rate, "floor": floor}
    engine.dispose()
    keeper.close()

    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print("| store | engine (transitions/s) | raw-SQL floor (transitions/s) | engine / floor |")
    print("|---|---|---|---|")
    for store, row in results.items():
        print(
            f"| {store} | {row['engine']:.0f} | {row['floor']:.0f} | "
            f"{row['engine'] / row['floor']:.0%} |"
        )


if __name__ == "__main__":
    main()
