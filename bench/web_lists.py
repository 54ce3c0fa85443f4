"""Benchmark: the school task list and the curator queue with 1,000,000 occurrences.

Builds the same database as bench/sweep.py, marks 20,000 occurrences reported, then times
whole page requests through the Flask application (sign-in, tenant checks, SQL, templates)
and prints p50/p95 in a Markdown table; writes bench/results-web.json.

    python -m bench.web_lists [--schools 2000] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import psycopg

from bench.sweep import _url, build

RESULTS = Path(__file__).with_name("results-web.json")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    occurrences = build(args.schools)
    with psycopg.connect(_url()) as conn:
        conn.execute(
            "UPDATE occurrence SET state = 'reported', state_changed_at = now() "
            "WHERE activity_id IN (6, 7) AND due_on = (SELECT min(due_on) FROM "
            "occurrence WHERE due_on > '2024-05-01')"
        )
        conn.execute("ANALYZE occurrence")
    os.environ["DATABASE_URL"] = _url("postgresql+psycopg")
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    school_login = f"s{2 + 20 + args.schools // 2}"
    pages = {
        "school task list, page 1": (school_login, "/tasks"),
        "school task list, page 5": (school_login, "/tasks?page=5"),
        "school task list, overdue only": (school_login, "/tasks?overdue=1"),
        "curator queue (10 schools)": ("c0", "/queue"),
        "curator queue, page 2": ("c0", "/queue?page=2"),
    }
    rows = {}
    for name, (login, path) in pages.items():
        client = app.test_client()
        client.post("/login", data={"login": login, "password": "bench-password"})
        assert client.get(path).status_code == 200, (name, path)
        timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        rows[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_percentile(timings, 0.95), 1),
        }
    app.extensions["roadmap.engine"].dispose()
    RESULTS.write_text(
        json.dumps({"occurrences": occurrences, "pages": rows}, indent=2, ensure_ascii=False) + "\n"
    )
    print(f"| page ({occurrences:,} occurrences) | p50 | p95 |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['p50_ms']} ms | {row['p95_ms']} ms |")


if __name__ == "__main__":
    main()
