"""A monitoring round of every school × 10 indicators over HTTP: a school submitting its
values, its curator accepting them, and the region's plan-against-actual page.

The round is set up on a regional roadmap all schools take part in, after a first round
whose values are all accepted, so the plan page adds up two rounds of every school. Each
measuring round submits and accepts its own share of schools (each once), signed in as them;
the page is loaded by wrk as the regional coordinator.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

import psycopg

import workflows
from bench.loadtest import PAGE_SCRIPT, serve, sign_in, stop, wrk
from bench.spread import spread
from engine.accounts.access import load_actor
from engine.db import make_engine, unit_of_work
from engine.lifecycle.definition import Phase, SubjectKind, WorkflowRegistry
from engine.models import utcnow
from engine.work.rounds import open_round

INDICATORS = 10
REGISTRY = WorkflowRegistry(workflows.DEFINITIONS, workflows.GUARDS)


def _roadmap(url: str) -> tuple[int, list[int]]:
    """A regional roadmap with every school and ten indicators; their ids."""
    with psycopg.connect(url) as conn:
        roadmap = conn.execute(
            "INSERT INTO roadmap (title, level, owner_id, period_start, period_end, status, "
            "created_at) VALUES ('Региональный мониторинг показателей', 'regional', 1, "
            "'2026-09-01', '2027-08-31', 'active', now()) RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO roadmap_participant (roadmap_id, school_id) "
            "SELECT %s, id FROM organization WHERE kind = 'school'",
            (roadmap,),
        )
        directions = ("at_least", "at_most", "increase_by", "decrease_by", "exactly")
        ids = [
            conn.execute(
                "INSERT INTO indicator (roadmap_id, title, text, target_value, unit, direction, "
                "baseline, due, scope, position) VALUES (%s, %s, %s, %s, '%%', %s, %s, '[]', "
                "'school', %s) RETURNING id",
                (
                    roadmap,
                    f"Показатель {n + 1}",
                    f"Показатель {n + 1}: цель {50 + n}",
                    50 + n,
                    directions[n % len(directions)],
                    40.0,
                    n,
                ),
            ).fetchone()[0]
            for n in range(INDICATORS)
        ]
    return roadmap, ids


def _open(url: str, roadmap: int, indicators: list[int], title: str, closes: date) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            made = open_round(
                session,
                REGISTRY,
                load_actor(session, "regional"),
                roadmap,
                title=title,
                opens_on=closes - timedelta(days=14),
                closes_on=closes,
                scope="school",
                indicator_ids=indicators,
                questions=[],
                now=utcnow(),
            )
            assert made.id is not None
            return made.id
    finally:
        engine.dispose()


def _fill(url: str, round_id: int, accepted: str | None) -> None:
    """Every submission of the round gets a value for each indicator; with `accepted`, it
    is in that state too (data for the plan page, set as a data set, not fired)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO submission_value (submission_id, indicator_id, value, updated_at) "
            "SELECT s.id, ri.indicator_id, 30 + (s.id * 7 + ri.position * 13) %% 60, now() "
            "FROM submission s JOIN round_indicator ri ON ri.round_id = s.round_id "
            "WHERE s.round_id = %s",
            (round_id,),
        )
        if accepted is not None:
            conn.execute(
                "UPDATE submission SET state = %s WHERE round_id = %s", (accepted, round_id)
            )


def _post(base: str, path: str, cookie: str, body: dict[str, str]) -> float:
    """One form POST; its time in ms. The answer must be the form's redirect."""
    request = urllib.request.Request(
        f"{base}{path}",
        data=urllib.parse.urlencode(body).encode(),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    started = time.perf_counter()
    try:
        opener.open(request).read()
        status = 200
    except urllib.error.HTTPError as answer:
        status = answer.code
    took = (time.perf_counter() - started) * 1000
    if status != 303:
        raise RuntimeError(f"POST {path} answered {status}")
    return took


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(url: str, redis_url: str, schools: int, seconds: int, rounds: int, per_round: int) -> dict:
    """Submission and acceptance p50/p95 per round, and the plan page's, after a warm-up."""
    roadmap, indicators = _roadmap(url)
    definition = REGISTRY.for_subject(SubjectKind.SUBMISSION).definition
    done = definition.states_in(Phase.DONE)[0]
    submit = definition.rule_into(definition.initial, Phase.UNDER_REVIEW)
    assert submit is not None
    accept = next(r.trigger for r in definition.rules if definition.phase_of(r.dest) is Phase.DONE)
    today = date.today()
    first = _open(url, roadmap, indicators, "Мониторинг, I этап", today)
    _fill(url, first, done)
    with psycopg.connect(url) as conn:  # the first round was last term's
        past = today - timedelta(days=60)
        conn.execute(
            "UPDATE monitoring_round SET opens_on = %s, closes_on = %s WHERE id = %s",
            (past - timedelta(days=14), past, first),
        )
        conn.execute("UPDATE submission SET due_on = %s WHERE round_id = %s", (past, first))
    current = _open(url, roadmap, indicators, "Мониторинг, II этап", today + timedelta(days=30))
    with psycopg.connect(url, autocommit=True) as conn:
        # the statistics autovacuum keeps on a live system, as the data set's own build does
        conn.execute("VACUUM ANALYZE submission, submission_value, round_indicator")
        subs = conn.execute(
            "SELECT s.id, u.login FROM submission s JOIN app_user u ON "
            "u.organization_id = s.assignee_id AND u.role = 'school' WHERE s.round_id = %s "
            "ORDER BY s.id",
            (current,),
        ).fetchall()
    env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-secret"}
    product, base = serve("web.wsgi:app", env)
    results: dict[str, object] = {
        "schools": schools,
        "indicators": INDICATORS,
        "rounds": rounds,
        "per_round": per_round,
    }
    try:
        page = f"/roadmaps/{roadmap}/monitoring"
        cookie, _ = sign_in(base, "regional", page)
        page_env = {"BENCH_COOKIE": cookie, "BENCH_PATH": page}
        wrk(base, PAGE_SCRIPT, page_env, 1, 4)  # warm-up
        step = max(1, len(subs) // ((rounds + 1) * per_round))
        chosen = subs[::step][: (rounds + 1) * per_round]
        curators: dict[str, tuple[str, str]] = {}
        sends: list[dict[str, float]] = []
        accepts: list[dict[str, float]] = []
        pages: list[dict[str, float]] = []
        for r in range(rounds + 1):  # the first is the warm-up
            share = chosen[r * per_round : (r + 1) * per_round]
            sent, decided = [], []
            for submission_id, login in share:
                path = f"/submissions/{submission_id}"
                school_cookie, token = sign_in(base, login, path)
                values = {f"value-{i}": str(40 + (submission_id + n) % 50) for n, i in
                          enumerate(indicators)}  # fmt: skip
                sent.append(
                    _post(
                        base,
                        f"{path}/entries",
                        school_cookie,
                        {"csrf_token": token, "action": submit.trigger, **values},
                    )
                )
            for submission_id, login in share:
                number = int(re.sub(r"\D", "", login))
                curator = f"curator{number // 10}"
                if curator not in curators:
                    curators[curator] = sign_in(base, curator, "/queue")
                curator_cookie, token = curators[curator]
                decided.append(
                    _post(
                        base,
                        f"/submissions/{submission_id}/{accept}",
                        curator_cookie,
                        {"csrf_token": token},
                    )
                )
            figures = wrk(base, PAGE_SCRIPT, page_env, seconds, 2)
            if r:
                sends.append({"p50": sorted(sent)[len(sent) // 2], "p95": _p95(sent)})
                accepts.append({"p50": sorted(decided)[len(decided) // 2], "p95": _p95(decided)})
                pages.append({"p50": figures["p50_ms"], "p95": figures["p95_ms"]})
        for name, runs in (("submit", sends), ("accept", accepts), ("plan page", pages)):
            results[name] = {
                "p50_ms": spread(f["p50"] for f in runs),
                "p95_ms": spread(f["p95"] for f in runs),
            }
    finally:
        stop(product)
    return results
