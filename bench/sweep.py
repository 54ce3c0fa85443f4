"""The deadline sweep over the shared data set, beside the bare SQL that selects its rows.

Each in-process measurement runs in a fresh Python process, so its peak RSS is its own. Then a
real Celery worker (the product's worker command, solo pool) runs the sweep task, and its peak
RSS is read from /proc when the task has succeeded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.clock import NOW
from bench.spread import spread

#: The rows the sweep acts on: open, not escalated yet, due yesterday or within reminder reach.
BARE = (
    "SELECT id, assignee_id, due_on FROM occurrence WHERE state IN ('planned', 'in_progress', "
    "'returned') AND NOT escalation_held AND workflow_name = 'activity' AND ("
    "(escalation_level = 0 AND due_on <= %(yesterday)s) "
    "OR (due_on BETWEEN %(today)s AND %(today)s + 5 AND NOT EXISTS (SELECT 1 FROM escalation e "
    "WHERE e.occurrence_id = occurrence.id AND e.kind = 'reminder')))"
)


def reset(url: str) -> None:
    """Undo a sweep: drop its escalations and notifications, lower the levels again."""
    with psycopg.connect(url) as conn:
        # one TRUNCATE: a DELETE checks each escalation against every notification's row,
        # dead ones too (the foreign key has no index: nothing else reads it that way)
        conn.execute("TRUNCATE notification, escalation")
        conn.execute("UPDATE occurrence SET escalation_level = 0 WHERE escalation_level > 0")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE occurrence, escalation, notification")


def measure(kind: str, url: str) -> dict[str, float]:
    """One measurement in this process: seconds, rows and peak RSS in MB."""
    if kind == "sweep":
        import workflows
        from engine.db import make_engine
        from engine.escalation.policy import PolicyBook
        from engine.escalation.sweep import sweep
        from engine.lifecycle.definition import WorkflowRegistry

        registry = WorkflowRegistry(workflows.DEFINITIONS, workflows.GUARDS)
        policies = PolicyBook(workflows.POLICIES, registry)
        engine = make_engine(url)
        started = time.perf_counter()
        result = sweep(engine, policies, NOW)
        elapsed = time.perf_counter() - started
        rows = result.reminders + sum(result.escalations.values())
        engine.dispose()
    else:
        today = NOW.date()
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            params = {"yesterday": today.fromordinal(today.toordinal() - 1), "today": today}
            rows = len(conn.execute(BARE, params).fetchall())
            elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": rows, "peak_rss_mb": peak_rss_mb(os.getpid())}


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _fresh_process(kind: str, url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sweep", kind, url],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_run(url: str, redis_url: str) -> dict[str, float]:
    """The sweep task in a real Celery worker: its run time and the worker's peak RSS."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url}
    with tempfile.TemporaryFile("w+") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker",
                "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait(log, re.compile(r"ready\."), 60, "the worker to start")
            from engine.settings import Settings
            from worker.app import create_celery

            app = create_celery(Settings.from_env(env))
            app.send_task("roadmap.sweep_deadlines", kwargs={"now": NOW.isoformat()})
            found = _wait(
                log,
                re.compile(r"roadmap\.sweep_deadlines\[[^\]]+\] succeeded in ([0-9.]+)s"),
                600,
                "the sweep task",
            )
            rss = peak_rss_mb(worker.pid)
            app.close()
        finally:
            worker.terminate()
            worker.wait(30)
    return {"seconds": float(found.group(1)), "peak_rss_mb": rss}


def _wait(log, pattern: re.Pattern[str], timeout: float, what: str) -> re.Match[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        found = pattern.search(log.read())
        if found:
            return found
        time.sleep(0.05)
    log.seek(0)
    raise RuntimeError(f"timed out waiting for {what}:\n{log.read()[-3000:]}")


def run(url: str, redis_url: str, repeats: int) -> dict[str, object]:
    """Sweep and bare SQL `repeats` times each, alternating, after one of each to warm the
    database's caches up; then the sweep in a worker."""
    sweeps, bares = [], []
    reset(url)
    _fresh_process("bare", url)
    _fresh_process("sweep", url)
    for _ in range(repeats):
        reset(url)
        bares.append(_fresh_process("bare", url))
        sweeps.append(_fresh_process("sweep", url))
    reset(url)
    worker = worker_run(url, redis_url)
    reset(url)
    return {
        "rows_acted_on": sweeps[0]["rows"],
        "rows_bare_sql": bares[0]["rows"],
        "sweep_seconds": spread(r["seconds"] for r in sweeps),
        "bare_sql_seconds": spread(r["seconds"] for r in bares),
        "time_ratio": spread(
            s["seconds"] / b["seconds"] for s, b in zip(sweeps, bares, strict=True)
        ),
        "sweep_process_peak_rss_mb": round(max(r["peak_rss_mb"] for r in sweeps), 1),
        "bare_sql_process_peak_rss_mb": round(max(r["peak_rss_mb"] for r in bares), 1),
        "worker_task_seconds": round(worker["seconds"], 3),
        "worker_peak_rss_mb": round(worker["peak_rss_mb"], 1),
        "repeats": repeats,
    }


if __name__ == "__main__":  # one measurement, in a process of its own
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
