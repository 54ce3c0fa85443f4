"""The national-scale data set the benchmarks share, built on PostgreSQL.

A region of N schools in 20 municipalities (or as many as asked). Each municipality imports
the three seed roadmaps through the real importer, with one school in it; that school's
occurrences are the pattern every other school of the municipality gets, copied set-based
in SQL, and the roadmaps are renewed for `years` consecutive years (due dates a whole year
later each time). With the defaults (2,000 schools, 9 years) that is about 1,030,000
occurrences; 10,000 schools in 100 municipalities (`make bench-national`) make about
5,100,000.

Everything due before the benchmark's "now" is approved history; of the rest, every
next occurrence of some activities falls due yesterday instead, 1% of the table for the
sweep to escalate, and 2% wait in curators' queues as reported.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

import workflows
from bench.clock import NOW, YESTERDAY
from engine.accounts.users import hash_password
from engine.db import make_engine, unit_of_work
from engine.importing.apply import import_roadmap
from engine.importing.document import read_roadmap
from engine.lifecycle.definition import WorkflowRegistry
from engine.migrate import upgrade
from engine.models import Organization
from engine.readmodels.tally import refresh
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
MUNICIPALITIES = 20
PASSWORD = "bench-password"
#: Schools the `approver` curator reviews: the HTTP benchmark approves their reported work.
APPROVER_SCHOOLS = 80  # enough reported work for six rounds of approvals

REGISTRY = WorkflowRegistry(workflows.DEFINITIONS, workflows.GUARDS)


@dataclass
class DataSet:
    """What `build` made, and how long each part took."""

    url: str
    schools: int
    municipalities: int = MUNICIPALITIES
    occurrences: int = 0
    falling_due: int = 0
    reported: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    #: Per seed file: (read seconds, import seconds) of its first import.
    imports: dict[str, tuple[float, float]] = field(default_factory=dict)


def admin_url() -> str:
    """The maintenance database the benchmarks create theirs from."""
    return os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database(name: str) -> str:
    """Drop and create database `name`, migrate it to head; return its URL."""
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url().rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def seed_files() -> list[Path]:
    """The seed roadmaps, by name."""
    files = sorted(SEEDS.glob("[0-9][0-9][0-9]_*.txt"))
    if not files:
        raise SystemExit(f"no seed roadmaps in {SEEDS}: ../shared must sit beside the clone")
    return files


def build(name: str, schools: int, years: int = 9, municipalities: int = MUNICIPALITIES) -> DataSet:
    """Create database `name` with `schools` schools in `municipalities` and their
    occurrences over `years`."""
    if schools < municipalities:
        raise SystemExit(f"--schools must be at least {municipalities}")
    started = time.perf_counter()
    data = DataSet(fresh_database(name), schools, municipalities)
    _organizations(data.url, schools, municipalities)
    mark = time.perf_counter()
    _import_seeds(data)
    data.seconds["import through the importer"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _people(data.url, schools, municipalities)
    _expand(data.url, years, municipalities)
    data.seconds["bulk load"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _history_and_due(data)
    data.seconds["states"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _tally(data.url)
    data.seconds["progress tally"] = time.perf_counter() - mark
    with psycopg.connect(data.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        data.occurrences = conn.execute("SELECT count(*) FROM occurrence").fetchone()[0]
    data.seconds["total"] = time.perf_counter() - started
    return data


def _organizations(url: str, schools: int, municipalities: int) -> None:
    """The region, its municipalities and schools: the first school of each is the pattern."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO organization (id, kind, name) VALUES (1, 'region', 'Регион')")
        with cur.copy("COPY organization (id, kind, name, parent_id) FROM STDIN") as copy:
            for m in range(municipalities):
                copy.write_row((2 + m, "municipality", f"Муниципальный район {m + 1}", 1))
            for n in range(schools):
                school = (_school_id(n, municipalities), "school", _school_name(n, municipalities))
                copy.write_row((*school, 2 + n % municipalities))
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
            "(SELECT max(id) FROM organization))"
        )


def _school_id(n: int, municipalities: int) -> int:
    return 2 + municipalities + n


def _school_name(n: int, municipalities: int) -> str:
    return f"МБОУ СОШ №{n // municipalities + 1} (район {n % municipalities + 1})"


def _import_seeds(data: DataSet) -> None:
    """Each municipality imports each seed roadmap, with only its pattern school present."""
    engine = make_engine(data.url)
    drafts = {}
    for path in seed_files():
        mark = time.perf_counter()
        drafts[path.name] = read_roadmap(path)
        data.imports[path.name] = (time.perf_counter() - mark, 0.0)
    with psycopg.connect(data.url) as conn:  # hide all but the pattern schools for now
        conn.execute(
            "UPDATE organization SET parent_id = NULL WHERE kind = 'school' AND id >= %s",
            (_school_id(data.municipalities, data.municipalities),),
        )
    for m in range(data.municipalities):
        for file_name, draft in drafts.items():
            mark = time.perf_counter()
            with unit_of_work(engine) as session:
                municipality = session.get(Organization, 2 + m)
                assert municipality is not None
                import_roadmap(session, REGISTRY, draft, municipality)
            if m == 0:
                read, _ = data.imports[file_name]
                data.imports[file_name] = (read, time.perf_counter() - mark)
    engine.dispose()
    with psycopg.connect(data.url) as conn:
        conn.execute(
            "UPDATE organization SET parent_id = 2 + (id - %s) %% %s WHERE kind = 'school'",
            (_school_id(0, data.municipalities), data.municipalities),
        )


def _people(url: str, schools: int, municipalities: int) -> None:
    """Staff for every school, a curator per ten schools, coordinators, and the approver."""
    secret = hash_password(PASSWORD)  # one hash: scrypt is slow on purpose
    now = datetime.now(UTC)

    def user(login: str, role: str, org: int | None) -> tuple[object, ...]:
        email = f"{login}@bench.test"
        return (login, login, email, secret, role, org, True, now, secrets.token_hex(16))

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        columns = (
            "login, full_name, email, password_hash, role, organization_id, is_active, "
            "created_at, session_token"
        )
        with cur.copy(f"COPY app_user ({columns}) FROM STDIN") as copy:
            copy.write_row(user("regional", "regional_coordinator", 1))
            for m in range(municipalities):
                copy.write_row(user(f"municipal{m}", "municipal_coordinator", 2 + m))
            for n in range(schools):
                copy.write_row(user(f"school{n}", "school", _school_id(n, municipalities)))
            for c in range((schools + 9) // 10):
                copy.write_row(user(f"curator{c}", "curator", None))
            copy.write_row(user("approver", "curator", None))
        cur.execute(
            "INSERT INTO curator_school (curator_id, school_id) "
            "SELECT u.id, %s + substr(u.login, 8)::int * 10 + k FROM app_user u "
            "CROSS JOIN generate_series(0, 9) k WHERE u.login LIKE 'curator%%' "
            "AND substr(u.login, 8)::int * 10 + k < %s",
            (_school_id(0, municipalities), schools),
        )
        cur.execute(
            "INSERT INTO curator_school (curator_id, school_id) "
            "SELECT u.id, s.id FROM app_user u, organization s "
            "WHERE u.login = 'approver' AND s.kind = 'school' AND s.id >= %s",
            (_school_id(max(municipalities, schools - APPROVER_SCHOOLS), municipalities),),
        )


def _expand(url: str, years: int, municipalities: int) -> None:
    """Every school gets its pattern school's occurrences; then the roadmaps run `years`."""
    columns = (
        "activity_id, assignee_id, due_on, scheduled, due_revision, state, version, "
        "escalation_level, escalation_held, workflow_name, workflow_version, created_at, "
        "updated_at, state_changed_at"
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO roadmap_participant (roadmap_id, school_id) "
            "SELECT r.id, s.id FROM roadmap r JOIN organization s ON s.parent_id = r.owner_id "
            "WHERE s.kind = 'school' ON CONFLICT DO NOTHING"
        )
        conn.execute(
            f"INSERT INTO occurrence ({columns}) "
            "SELECT o.activity_id, s.id, o.due_on, o.scheduled, 0, o.state, 1, 0, false, "
            "o.workflow_name, o.workflow_version, o.created_at, o.updated_at, o.state_changed_at "
            "FROM occurrence o JOIN organization t ON t.id = o.assignee_id AND t.id < %s "
            "JOIN organization s ON s.parent_id = t.parent_id AND s.kind = 'school' "
            "AND s.id >= %s WHERE t.kind = 'school' ORDER BY s.id, o.id",
            (_school_id(municipalities, municipalities),) * 2,
        )
        conn.execute(
            f"INSERT INTO occurrence ({columns}) "
            "SELECT o.activity_id, o.assignee_id, "
            "(o.due_on + make_interval(years => y))::date, o.scheduled, 0, o.state, 1, 0, false, "
            "o.workflow_name, o.workflow_version, o.created_at, o.updated_at, o.state_changed_at "
            "FROM occurrence o CROSS JOIN generate_series(1, %s) y WHERE o.due_on IS NOT NULL "
            "ORDER BY o.assignee_id, y, o.id ON CONFLICT DO NOTHING",
            (years - 1,),
        )


def _tally(url: str) -> None:
    """Build the dashboards' tally as the product's scheduler would: as of the real today,
    the day the served pages count against, so that every transition pays its trigger."""
    zone = Settings.from_env().timezone
    today = datetime.now(ZoneInfo(zone)).date()
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        refresh(session, today, zone)
    engine.dispose()


def _history_and_due(data: DataSet) -> None:
    """Past work approved; 1% of the table due yesterday; 2% reported."""
    with psycopg.connect(data.url) as conn:
        conn.execute(
            "UPDATE occurrence SET state = 'approved', version = 4, "
            "state_changed_at = due_on + time '12:00' WHERE due_on < %s",
            (NOW.date(),),  # yesterday too: only the 1% below falls due
        )
        total = conn.execute("SELECT count(*) FROM occurrence").fetchone()[0]
        data.falling_due = conn.execute(  # the next occurrence of 1% of (activity, assignee)
            "UPDATE occurrence SET due_on = %s WHERE id IN (SELECT id FROM (SELECT DISTINCT ON "
            "(activity_id, assignee_id) id FROM occurrence WHERE state = 'planned' "
            "AND due_on > %s AND NOT EXISTS (SELECT 1 FROM occurrence x WHERE x.activity_id = "
            "occurrence.activity_id AND x.assignee_id = occurrence.assignee_id AND x.due_on = %s) "
            "ORDER BY activity_id, assignee_id, due_on) nearest ORDER BY md5(id::text) LIMIT %s)",
            (YESTERDAY, YESTERDAY, YESTERDAY, total // 100),
        ).rowcount
        data.reported = conn.execute(
            "UPDATE occurrence SET state = 'reported', version = 3, state_changed_at = %s "
            "WHERE id %% 50 = 1 AND state = 'planned' AND due_on > %s",
            (NOW - timedelta(days=1), YESTERDAY),
        ).rowcount
        conn.execute(
            "UPDATE occurrence SET state = 'reported', version = 3, state_changed_at = %s "
            "WHERE state = 'planned' AND due_on > %s AND assignee_id IN (SELECT school_id "
            "FROM curator_school c JOIN app_user u ON u.id = c.curator_id "
            "WHERE u.login = 'approver')",
            (NOW - timedelta(days=1), YESTERDAY),
        )
