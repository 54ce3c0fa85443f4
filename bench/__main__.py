"""Run every benchmark on one data set; print a Markdown table and write bench/results.json.

python -m bench            # 2,000 schools, about 1,040,000 occurrences (make bench)
python -m bench --quick    # 200 schools, shorter runs: about three minutes (make bench-quick)
python -m bench --national # 10,000 schools in 100 municipalities, about 5,100,000 occurrences
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data, loadtest, rounds, sweep, transitions
from bench.spread import verdict

RESULTS = Path(__file__).with_name("results.json")
QUICK_RESULTS = Path(__file__).with_name("results-quick.json")  # not committed
NATIONAL_RESULTS = Path(__file__).with_name("results-national.json")
DATABASE = "roadmap_bench"


def machine() -> str:
    """Cores, memory and CPU model of this machine, for the table's caption."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    parser.add_argument(
        "--national", action="store_true", help="10,000 schools in 100 municipalities"
    )
    parser.add_argument("--schools", type=int, help="default 2000 (quick: 200; national: 10000)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:  # the HTTP step comes last: say so before the rest runs
        parser.exit(2, "bench: wrk is not installed (make bench installs it from Debian)\n")
    schools = args.schools or (200 if args.quick else 10_000 if args.national else 2000)
    municipalities = 100 if args.national else data.MUNICIPALITIES
    started = time.perf_counter()
    results: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": args.quick,
    }

    def step(name: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {name}", flush=True)

    step(f"building the data set: {schools} schools")
    dataset = data.build(DATABASE, schools, municipalities=municipalities)
    results["data"] = {
        "schools": schools,
        "municipalities": municipalities,
        "occurrences": dataset.occurrences,
        "falling_due": dataset.falling_due,
        "seconds": {k: round(v, 1) for k, v in dataset.seconds.items()},
    }
    results["import"] = {
        name: {"read_seconds": round(r, 3), "import_seconds": round(w, 3)}
        for name, (r, w) in dataset.imports.items()
    }
    step("deadline sweep")
    results["sweep"] = sweep.run(dataset.url, args.redis_url, 5)
    step("transitions")
    results["transitions"] = transitions.run(
        dataset.url, per_round=40 if args.quick else 200, rounds=5 if args.quick else 7
    )
    step("HTTP under gunicorn")
    results["http"] = loadtest.run(dataset.url, args.redis_url, schools, 2 if args.quick else 5)
    step(f"a monitoring round: {schools} schools × {rounds.INDICATORS} indicators")
    results["rounds"] = rounds.run(
        dataset.url,
        args.redis_url,
        schools,
        2 if args.quick else 5,
        rounds=3 if args.quick else 5,
        per_round=20 if args.quick else 40,
    )
    results["seconds"] = round(time.perf_counter() - started, 1)
    target = QUICK_RESULTS if args.quick else NATIONAL_RESULTS if args.national else RESULTS
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    step(f"done; the figures are in {target}")
    print()
    print(table(results))


def _n(figure: dict[str, float], form: str) -> str:
    """A figure measured in rounds: its median, its range in parentheses."""
    return (
        f"{form.format(figure['median'])} "
        f"({form.format(figure['min'])} – {form.format(figure['max'])})"
    )


def table(r: dict) -> str:
    """The results as the README's Markdown table."""
    d, s, h = r["data"], r["sweep"], r["http"]
    lines = [
        f"Machine: {r['machine']}; PostgreSQL, {d['schools']:,} schools in "
        f"{d['municipalities']} municipalities, {d['occurrences']:,} occurrences"
        f"{' (quick run)' if r['quick'] else ''}; {r['when']}.",
        "",
        "| measure | Roadmap Engine | compared with | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for store, t in r["transitions"].items():
        sqlite = store.startswith("SQLite")
        goal = (
            verdict(t["engine_over_spiff"], 10.0)
            if sqlite
            else verdict(t["engine_over_floor"], 0.5)
        )
        lines.append(
            f"| transitions/s, {store} | {_n(t['engine'], '{:,.0f}')} "
            f"| raw-SQL floor {_n(t['floor'], '{:,.0f}')}; "
            f"SpiffWorkflow {_n(t['spiff'], '{:,.0f}')} "
            f"| {_n(t['engine_over_floor'], '{:.0%}')} of floor; "
            f"{_n(t['engine_over_spiff'], '{:.1f}×')} Spiff "
            f"| {'≥ 10× Spiff' if sqlite else '≥ 50% of floor'}: {goal} |"
        )
    lines.append(
        f"| deadline sweep, {s['rows_acted_on']:,} rows due of {d['occurrences']:,} "
        f"| {_n(s['sweep_seconds'], '{:.2f} s')} "
        f"| bare SELECT {_n(s['bare_sql_seconds'], '{:.3f} s')} "
        f"| {_n(s['time_ratio'], '{:.1f}×')} "
        f"| ≤ 2 s: {verdict(s['sweep_seconds'], 2.0, at_least=False)} |"
    )
    lines.append(
        f"| peak RSS, process running the sweep | {s['sweep_process_peak_rss_mb']:.0f} MB "
        f"| bare SELECT process {s['bare_sql_process_peak_rss_mb']:.0f} MB "
        f"| {s['sweep_process_peak_rss_mb'] / s['bare_sql_process_peak_rss_mb']:.1f}× | – |"
    )
    lines.append(
        f"| peak RSS, Celery worker running the sweep | {s['worker_peak_rss_mb']:.0f} MB "
        f"(task {s['worker_task_seconds']:.2f} s) | bare SELECT process "
        f"{s['bare_sql_process_peak_rss_mb']:.0f} MB | – | ≤ 300 MB |"
    )
    for name, page in h["pages"].items():
        lines.append(
            f"| {name}, p50 / p95 | {page['p50_ms']['median']:.0f} / "
            f"{_n(page['p95_ms'], '{:.0f}')} ms | – | – "
            f"| p95 ≤ 50 ms: {verdict(page['p95_ms'], 50.0, at_least=False)} |"
        )
    lines.append(
        f"| approvals/s over HTTP (sign-in, CSRF, checks, log) "
        f"| {_n(h['approve']['per_second'], '{:,.0f}')} "
        f"| bare Flask CAS view {_n(h['floor']['per_second'], '{:,.0f}')} "
        f"| {_n(h['approve_over_floor'], '{:.0%}')} "
        f"| ≥ 50%: {verdict(h['approve_over_floor'], 0.5)} |"
    )
    lines.append(
        f"| peak RSS, gunicorn web worker under load | {h['web_worker_peak_rss_mb']:.0f} MB "
        f"| – | – | – |"
    )
    m = r.get("rounds")
    for name in ("submit", "accept", "plan page") if m else ():
        figure = m[name]
        what = {
            "submit": "a school submits 10 values",
            "accept": "its curator accepts them",
            "plan page": "plan against actual, region",
        }[name]
        lines.append(
            f"| round of {m['schools']:,} schools × {m['indicators']}: {what}, p50 / p95 "
            f"| {figure['p50_ms']['median']:.0f} / {_n(figure['p95_ms'], '{:.0f}')} ms | – | – "
            f"| p95 ≤ 50 ms: {verdict(figure['p95_ms'], 50.0, at_least=False)} |"
        )
    for name, seed in r["import"].items():
        lines.append(
            f"| import of seed {name[:3]} (read + write) | "
            f"{seed['read_seconds'] + seed['import_seconds']:.2f} s | – | – | – |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
