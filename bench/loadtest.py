"""HTTP under gunicorn on loopback, loaded by wrk: page latency and approval throughput.

The product runs with the web service's command from docker-compose.yml (4 sync workers);
the bare floor (bench/http_floor.py) runs under the same command beside it. wrk keeps a fixed
number of connections busy for a fixed time, so the load is bounded. Approvals are counted
in the database afterwards: only a change that happened counts.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

from bench.data import PASSWORD
from bench.spread import spread
from bench.sweep import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
WORKERS = "4"  # as the web service in docker-compose.yml

_DONE = """
threads = {}
function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, '
    .. '"bad_status": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, bad, e.connect + e.read + e.write + e.timeout))
end
"""

PAGE_SCRIPT = (
    """
bad = 0
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.path = os.getenv("BENCH_PATH")
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
"""
    + _DONE
)

POST_SCRIPT = (
    """
bad = 0
local ok = tonumber(os.getenv("BENCH_OK"))
local prefix, suffix = os.getenv("BENCH_PREFIX"), os.getenv("BENCH_SUFFIX")
local headers = {["Cookie"] = os.getenv("BENCH_COOKIE"),
                 ["Content-Type"] = "application/x-www-form-urlencoded"}
local body = os.getenv("BENCH_BODY")
function init(args)
  ids = {}
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  step = tonumber(os.getenv("BENCH_THREADS"))
  n = index + 1
end
function request()
  local id = ids[n] or "0"
  n = n + step
  return wrk.format("POST", prefix .. id .. suffix, headers, body)
end
function response(status, headers, body)
  if status ~= ok then bad = bad + 1 end
end
"""
    + _DONE
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start gunicorn with the product's web command for `app`; wait until it answers."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            "--workers", WORKERS, "--timeout", "60", app,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(1.0)  # let every worker finish booting, not only the first
                return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited with {process.returncode}") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn {app} did not answer in 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def workers_peak_rss_mb(master: int) -> list[float]:
    """Peak RSS of each gunicorn worker under `master`."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [peak_rss_mb(int(pid)) for pid in children]


def sign_in(base: str, login: str, page: str) -> tuple[str, str]:
    """Sign in through the login form; the Cookie header and a CSRF token for later posts."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    body = urllib.parse.urlencode(
        {"login": login, "password": PASSWORD, "csrf_token": token.group(1)}
    ).encode()
    opener.open(f"{base}/login", data=body).read()
    text = opener.open(f"{base}{page}").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    if token is None or "logout" not in text:
        raise RuntimeError(f"signing in as {login} failed")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token.group(1)


def wrk(base: str, script: str, env: dict[str, str], seconds: int, connections: int) -> dict:
    """Run wrk with `script`; the figures its done() reports."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        done = subprocess.run(
            [
                "wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s",
                "--timeout", "10s", "-s", file.name, base,
            ],
            env={**os.environ, "BENCH_THREADS": "2", **env},
            capture_output=True,
            text=True,
            check=True,
        )  # fmt: skip
    finally:
        os.unlink(file.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    return json.loads(line[len("BENCH ") :])


def _ids_file(ids: list[int]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as file:
        file.write("\n".join(map(str, ids)) + "\n")
    return file.name


def run(url: str, redis_url: str, schools: int, seconds: int, rounds: int = 5) -> dict[str, object]:
    """Pages p50/p95 and approvals per second against the floor, each in `rounds` rounds of
    `seconds` after a warm-up, the pages in turn and the approvals beside the floor; the web
    workers' RSS under load."""
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret",
        "FLOOR_DATABASE_URL": url,
    }
    product, base = serve("web.wsgi:app", env)
    floor, floor_base = serve("bench.http_floor:app", env)
    results: dict[str, object] = {"rounds": rounds, "seconds_each": seconds}
    try:
        results["pages"] = _pages(base, schools, seconds, rounds)
        with psycopg.connect(url) as conn:
            approver = conn.execute("SELECT id FROM app_user WHERE login = 'approver'").fetchone()[
                0
            ]
            mine = [
                row[0]
                for row in conn.execute(
                    "SELECT o.id FROM occurrence o JOIN curator_school c ON c.school_id = "
                    "o.assignee_id WHERE c.curator_id = %s AND o.state = 'reported' ORDER BY o.id",
                    (approver,),
                )
            ]
            floor_ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM occurrence WHERE state = 'planned' AND assignee_id NOT IN "
                    "(SELECT school_id FROM curator_school WHERE curator_id = %s) ORDER BY id",
                    (approver,),
                )
            ]
        cookie, token = sign_in(base, "approver", "/queue")
        approve_env = {
            "BENCH_COOKIE": cookie,
            "BENCH_BODY": f"csrf_token={urllib.parse.quote(token)}",
            "BENCH_PREFIX": "/occurrences/",
            "BENCH_SUFFIX": "/approve",
            "BENCH_OK": "303",
        }
        floor_env = {
            "BENCH_COOKIE": "",
            "BENCH_BODY": "",
            "BENCH_PREFIX": "/floor/",
            "BENCH_SUFFIX": "",
            "BENCH_OK": "204",
        }
        approvals: list[float] = []
        floors: list[float] = []
        # each round, the warm-up included, approves its own share of the reported work
        for r, (ours, theirs) in enumerate(
            zip(_shares(mine, rounds + 1), _shares(floor_ids, rounds + 1), strict=True)
        ):
            before = _approvals(url, approver)
            figures = _posts(base, approve_env, ours, min(seconds, 3))  # shares last 3 s
            approved = _approvals(url, approver) - before
            if approved > len(ours) * 0.9:
                raise RuntimeError("the approver ran out of reported work: shorten the run")
            floored = _posts(floor_base, floor_env, theirs, min(seconds, 3))
            _require_clean("floor", floored)
            if r:
                approvals.append(approved / figures["seconds"])
                floors.append((floored["requests"] - floored["bad_status"]) / floored["seconds"])
        results["approve"] = {"per_second": spread(approvals)}
        results["floor"] = {"per_second": spread(floors)}
        results["approve_over_floor"] = spread(
            a / f for a, f in zip(approvals, floors, strict=True)
        )
        results["web_worker_peak_rss_mb"] = max(workers_peak_rss_mb(product.pid))
    finally:
        stop(product)
        stop(floor)
    return results


def _pages(base: str, schools: int, seconds: int, rounds: int) -> dict[str, dict[str, object]]:
    """Each page signed in as its reader, loaded by two connections, the pages in turn."""
    school = f"school{schools // 2}"
    pages = {
        "school task list": (school, "/tasks"),
        "school task list, page 3": (school, "/tasks?page=3"),
        "curator queue (10 schools)": ("curator0", "/queue"),
        "curator queue, page 2": ("curator0", "/queue?page=2"),
        "municipal dashboard": ("municipal0", "/dashboard"),
        "regional dashboard (by municipality)": ("regional", "/dashboard"),
        "regional dashboard, one municipality": ("regional", "/dashboard?municipality=3"),
        "regional escalation board": ("regional", "/escalations"),
    }
    envs = {}
    for name, (login, path) in pages.items():
        cookie, _ = sign_in(base, login, path)
        envs[name] = {"BENCH_COOKIE": cookie, "BENCH_PATH": path}
        wrk(base, PAGE_SCRIPT, envs[name], 1, 4)  # warm-up: every worker has served the page
    runs: dict[str, list[dict]] = {name: [] for name in pages}
    for _ in range(rounds):
        for name, env in envs.items():
            figures = wrk(base, PAGE_SCRIPT, env, seconds, 2)
            _require_clean(name, figures)
            runs[name].append(figures)
    return {
        name: {
            "p50_ms": spread(f["p50_ms"] for f in figures),
            "p95_ms": spread(f["p95_ms"] for f in figures),
        }
        for name, figures in runs.items()
    }


def _shares(ids: list[int], parts: int) -> list[list[int]]:
    """`ids` in `parts` consecutive shares."""
    size = len(ids) // parts
    return [ids[n * size : (n + 1) * size] for n in range(parts)]


def _posts(base: str, env: dict[str, str], ids: list[int], seconds: int) -> dict:
    """wrk posting to each of `ids` in turn, with eight connections."""
    name = _ids_file(ids)
    try:
        return wrk(base, POST_SCRIPT, {**env, "BENCH_IDS": name}, seconds, 8)
    finally:
        os.unlink(name)


def _approvals(url: str, actor: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM transition_log WHERE trigger = 'approve' AND actor_id = %s",
            (actor,),
        ).fetchone()[0]


def _require_clean(name: str, figures: dict) -> None:
    if figures["socket_errors"] or figures["bad_status"] > figures["requests"] * 0.01:
        raise RuntimeError(f"{name}: the server failed under load: {figures}")
