"""Benchmark: one deadline sweep over 1,000,000 occurrences with 10,000 falling due.

Compared, on the same PostgreSQL database, with the bare SQL that selects the same rows.
Each measurement runs in a fresh process, so its peak RSS is its own. Prints a Markdown
table and writes bench/results-sweep.json.

    python -m bench.sweep [--schools 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ADMIN = os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
NAME = "roadmap_bench_sweep"
ACTIVITIES = 50
DUE_DATES = 10
DUE_ACTIVITIES = 5  # of the 50, these have one due date that has just passed
NOW = datetime(2024, 4, 2, 6, 0, tzinfo=UTC)  # Tuesday 2 April 2024, 09:00 in Moscow
YESTERDAY = date(2024, 4, 1)
RESULTS = Path(__file__).with_name("results-sweep.json")


def _url(driver: str = "postgresql") -> str:
    base = ADMIN.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{NAME}"


def build(schools: int) -> int:
    """Create the database: schools, people, a roadmap of 50 activities, the occurrences."""
    from engine.accounts import hash_password
    from engine.db import make_engine
    from engine.migrate import upgrade

    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{NAME}"')
    engine = make_engine(_url("postgresql+psycopg"))
    upgrade(engine)
    engine.dispose()
    municipalities = 20
    secret = hash_password("bench-password")
    now = datetime.now(UTC)
    with psycopg.connect(_url()) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO organization (id, kind, name) VALUES (1, 'region', 'Регион')")
        cur.executemany(
            "INSERT INTO organization (id, kind, name, parent_id) "
            "VALUES (%s, 'municipality', %s, 1)",
            [(1 + m, f"Муниципалитет {m}") for m in range(1, municipalities + 1)],
        )
        first_school = 2 + municipalities
        school_ids = list(range(first_school, first_school + schools))
        with cur.copy("COPY organization (id, kind, name, parent_id) FROM STDIN") as copy:
            for n, school in enumerate(school_ids):
                copy.write_row((school, "school", f"Школа {n}", 2 + n % municipalities))
        with cur.copy(
            "COPY app_user (login, full_name, email, password_hash, role, "
            "organization_id, is_active, created_at, session_token) FROM STDIN"
        ) as copy:
            for school in school_ids:
                copy.write_row(
                    (
                        f"s{school}",
                        f"Директор {school}",
                        f"s{school}@bench.test",
                        secret,
                        "school",
                        school,
                        True,
                        now,
                        secrets.token_hex(16),
                    )
                )
            for c in range(schools // 10):
                copy.write_row(
                    (
                        f"c{c}",
                        f"Куратор {c}",
                        f"c{c}@bench.test",
                        secret,
                        "curator",
                        None,
                        True,
                        now,
                        secrets.token_hex(16),
                    )
                )
            for m in range(municipalities):
                copy.write_row(
                    (
                        f"m{m}",
                        f"Координатор {m}",
                        None,
                        secret,
                        "municipal_coordinator",
                        2 + m,
                        True,
                        now,
                        secrets.token_hex(16),
                    )
                )
        cur.execute(
            "INSERT INTO curator_school (curator_id, school_id) "
            "SELECT u.id, s.id FROM app_user u JOIN organization s "
            "ON s.kind = 'school' AND u.role = 'curator' "
            "AND substr(u.login, 2)::int = (s.id - %s) / 10",
            (first_school,),
        )
        cur.execute(
            "INSERT INTO roadmap (id, title, level, owner_id, period_start, period_end, "
            "status, created_at) VALUES (1, 'Бенчмарк', 'regional', 1, '2024-01-01', "
            "'2026-12-31', 'active', %s)",
            (now,),
        )
        cur.executemany(
            "INSERT INTO activity (id, roadmap_id, number, title, deadline_text, position) "
            "VALUES (%s, 1, %s, %s, '', %s)",
            [(a, str(a), f"Мероприятие {a}", a) for a in range(1, ACTIVITIES + 1)],
        )
        future = [date(2024, 6, 1) + timedelta(days=30 * d) for d in range(DUE_DATES)]
        stamp = now.isoformat()
        count = 0
        columns = (
            "activity_id, assignee_id, due_on, scheduled, due_revision, state, version, "
            "escalation_level, escalation_held, workflow_name, workflow_version, created_at, "
            "updated_at, state_changed_at"
        )
        with cur.copy(f"COPY occurrence ({columns}) FROM STDIN") as copy:
            for school in school_ids:  # streamed school by school: the loader stays small
                lines = []
                for activity in range(1, ACTIVITIES + 1):
                    dates = list(future)
                    if activity <= DUE_ACTIVITIES:
                        dates[0] = YESTERDAY
                    for due in dates:
                        lines.append(
                            f"{activity}\t{school}\t{due.isoformat()}\tt\t0\tplanned\t1\t0\tf"
                            f"\tactivity\t1\t{stamp}\t{stamp}\t{stamp}\n"
                        )
                copy.write("".join(lines))
                count += len(lines)
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
            "(SELECT max(id) FROM organization))"
        )
        conn.commit()
    with psycopg.connect(_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return count


def reset() -> None:
    """Undo a sweep: drop its escalations and notifications, lower the levels again."""
    with psycopg.connect(_url()) as conn:
        conn.execute("DELETE FROM notification")
        conn.execute("DELETE FROM escalation")
        conn.execute("UPDATE occurrence SET escalation_level = 0 WHERE escalation_level > 0")


def measure(kind: str) -> dict[str, float]:
    """Run one measurement in this process; return seconds and peak RSS in MB."""
    if kind == "sweep":
        from engine.db import make_engine
        from engine.sweep import sweep
        from workflows.escalation import POLICIES

        engine = make_engine(_url("postgresql+psycopg"))
        started = time.perf_counter()
        result = sweep(engine, POLICIES, NOW)
        elapsed = time.perf_counter() - started
        rows = result.escalations[1]
        engine.dispose()
    else:
        with psycopg.connect(_url()) as conn:
            started = time.perf_counter()
            rows = len(
                conn.execute(
                    "SELECT id FROM occurrence WHERE state IN ('planned', 'in_progress', "
                    "'returned') AND escalation_level = 0 AND NOT escalation_held "
                    "AND due_on <= %s AND workflow_name = 'activity'",
                    (YESTERDAY,),
                ).fetchall()
            )
            elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": rows, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, it restarts at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_fresh_process(kind: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sweep", "--measure", kind],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", choices=["sweep", "bare"])
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    started = time.perf_counter()
    occurrences = build(args.schools)
    print(
        f"built {occurrences:,} occurrences in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    sweeps, bares = [], []
    for _ in range(args.repeats):
        reset()
        bares.append(_in_fresh_process("bare"))
        sweeps.append(_in_fresh_process("sweep"))
    sweep_s = statistics.median(r["seconds"] for r in sweeps)
    bare_s = statistics.median(r["seconds"] for r in bares)
    sweep_mb = max(r["peak_rss_mb"] for r in sweeps)
    bare_mb = max(r["peak_rss_mb"] for r in bares)
    falling_due = sweeps[0]["rows"]
    results = {
        "occurrences": occurrences,
        "falling_due": falling_due,
        "sweep_seconds": round(sweep_s, 3),
        "bare_sql_seconds": round(bare_s, 3),
        "time_ratio": round(sweep_s / bare_s, 1),
        "sweep_peak_rss_mb": round(sweep_mb, 1),
        "bare_sql_peak_rss_mb": round(bare_mb, 1),
        "repeats": args.repeats,
        "what_the_sweep_does": "claims, escalates to level 1 and notifies school and curator",
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print("| measure | sweep (escalate + notify) | bare SELECT of the same rows | ratio |")
    print("|---|---|---|---|")
    print(
        f"| wall time, {occurrences:,} occurrences, {falling_due:,} due | {sweep_s:.2f} s "
        f"| {bare_s:.3f} s | {sweep_s / bare_s:.1f}× |"
    )
    print(
        f"| peak RSS of the process | {sweep_mb:.0f} MB | {bare_mb:.0f} MB "
        f"| {sweep_mb / bare_mb:.1f}× |"
    )


if __name__ == "__main__":
    main()
