"""The worker for real: a Celery worker process, its own Redis, PostgreSQL and SMTP."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

import workflows
from engine.accounts.access import load_actor
from engine.app import App
from engine.db import unit_of_work
from engine.escalation.sweep import local_today
from engine.models import (
    Escalation,
    ImportJob,
    ImportStatus,
    Notification,
    Occurrence,
    Roadmap,
    utcnow,
)
from engine.settings import Settings
from engine.usecases.importing import queue_import
from engine.work.roadmaps import add_occurrences
from tests.builders import SEED_FILES
from tests.factories import REGISTRY
from tests.processes import RedisServer, Worker, wait_for
from tests.smtp import SmtpServer
from worker.app import create_celery
from worker.guard import parked

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(db_url: str, redis_server: RedisServer) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_server.url,
        "CELERY_VISIBILITY_TIMEOUT": "8",
        "CELERY_RESTORE_INTERVAL": "1",
        "CELERY_TASK_TIME_LIMIT": "6",
        "CELERY_MAX_DELIVERIES": "3",
        "SWEEP_BATCH_SIZE": "50",
        "SMTP_HOST": "",
    }


@pytest.fixture
def workers(tmp_path: Path):
    started: list[Worker] = []

    def start(env: dict[str, str], **kwargs) -> Worker:
        worker = Worker(env, tmp_path / f"worker{len(started)}.log", **kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def _client(env: dict[str, str]):
    app = create_celery(Settings.from_env(env))
    return app


def _count(engine, model, *where) -> int:
    with unit_of_work(engine, readonly=True) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_beat_escalates_yesterdays_occurrence_once_and_mails_once(
    world, worker_env, smtp, workers
) -> None:
    yesterday = local_today(utcnow(), "Europe/Moscow") - timedelta(days=1)
    with unit_of_work(world.engine) as session:
        session.execute(Occurrence.__table__.update().values(due_on=date(2099, 1, 1)))
        session.execute(
            Occurrence.__table__.update()
            .where(Occurrence.id == world.occurrence_a)
            .values(due_on=yesterday)
        )
    env = {
        **worker_env,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SWEEP_INTERVAL_SECONDS": "1",
    }
    worker = workers(env, beat=True)
    wait_for(lambda: len(smtp.inbox.messages) >= 2, 60, "the level-1 mail")
    # let beat tick several more times: nothing more may happen
    ticks = worker.log.read_text().count("roadmap.sweep_deadlines")
    wait_for(
        lambda: worker.log.read_text().count("roadmap.sweep_deadlines") >= ticks + 6,
        60,
        "more beat ticks",
    )
    assert _count(world.engine, Escalation) == 1
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(
            select(Escalation.occurrence_id, Escalation.kind, Escalation.level)
        ).one() == (world.occurrence_a, "overdue", 1)
    recipients = sorted(m["To"].addresses[0].username for m in smtp.inbox.messages)
    assert recipients == ["curator_a", "school_a"]
    assert len(set(smtp.inbox.ids())) == 2
    assert _count(world.engine, Notification, Notification.emailed_at.is_(None)) == 0


def test_a_task_sent_by_hand_twice_still_escalates_once(world, worker_env, smtp, workers) -> None:
    env = {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}
    workers(env)
    client = _client(env)
    for _ in range(2):  # a duplicate delivery of the same tick
        client.send_task("roadmap.sweep_deadlines", kwargs={"now": "2024-04-01T07:00:00+00:00"})
    wait_for(lambda: len(smtp.inbox.messages) >= 6, 60, "six level-1 mails")
    client.send_task("roadmap.send_notifications")
    client.send_task("roadmap.sweep_deadlines", kwargs={"now": "2024-04-01T07:00:00+00:00"})
    wait_for(
        lambda: _count(world.engine, Notification, Notification.emailed_at.is_not(None)) == 6,
        30,
        "the mail marks",
    )
    client.close()
    assert _count(world.engine, Escalation) == 3
    assert len(smtp.inbox.messages) == len(set(smtp.inbox.ids())) == 6


def _many_overdue(world, days: int) -> int:
    start = date(2021, 1, 1)
    with unit_of_work(world.engine) as session:
        add_occurrences(
            session,
            REGISTRY.for_subject("occurrence"),
            world.activity,
            [world.school_a, world.school_b, world.school_c],
            [start + timedelta(days=d) for d in range(days)],
        )
    return _count(world.engine, Occurrence)


def _assert_each_level_once(world, occurrences: int) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        per_level = dict(
            session.execute(
                select(Escalation.level, func.count())
                .where(Escalation.kind == "overdue")
                .group_by(Escalation.level)
            ).all()
        )
        per_occurrence = session.execute(
            select(func.count(func.distinct(Escalation.occurrence_id)))
        ).scalar_one()
        notifications = session.execute(select(func.count()).select_from(Notification)).scalar_one()
        distinct_keys = session.execute(
            select(func.count(func.distinct(Notification.key)))
        ).scalar_one()
    assert per_level == {1: occurrences, 2: occurrences, 3: occurrences}
    assert per_occurrence == occurrences
    # level 1: the school and its curator; level 2: the municipal coordinator; level 3: the
    # regional one — every escalation told its people exactly once
    assert notifications == distinct_keys == occurrences * 4


def test_a_worker_killed_mid_sweep_loses_and_doubles_nothing(world, worker_env, workers) -> None:
    occurrences = _many_overdue(world, 400)  # 1,203 occurrences, 25 batches per level
    worker = workers(worker_env)
    client = _client(worker_env)
    client.send_task("roadmap.sweep_deadlines", kwargs={"now": "2024-06-01T07:00:00+00:00"})
    wait_for(lambda: _count(world.engine, Escalation) > 100, 60, "the sweep to be under way")
    worker.kill()
    done = _count(world.engine, Escalation)
    assert 0 < done < occurrences * 3, "killed in the middle"
    workers(worker_env)  # a new worker; the unacknowledged sweep comes back to it
    wait_for(
        lambda: _count(world.engine, Escalation) == occurrences * 3,
        120,
        "the redelivered sweep to finish",
    )
    client.close()
    _assert_each_level_once(world, occurrences)


def test_a_sweep_longer_than_its_time_limit_goes_on_to_the_end(world, worker_env, workers) -> None:
    occurrences = _many_overdue(world, 400)
    # a budget of a fifth of a second: the sweep of 3,609 escalations goes on in several parts
    worker = workers({**worker_env, "SWEEP_TIME_BUDGET": "0.2"})
    client = _client(worker_env)
    client.send_task("roadmap.sweep_deadlines", kwargs={"now": "2024-06-01T07:00:00+00:00"})
    wait_for(
        lambda: _count(world.engine, Escalation) == occurrences * 3,
        120,
        "the sweep to go on to the end",
    )
    client.close()
    _assert_each_level_once(world, occurrences)
    assert "part 2 goes on" in worker.log.read_text()


def test_redis_restarted_between_ticks_the_next_tick_catches_up(
    world, worker_env, workers, redis_server
) -> None:
    workers(worker_env)
    client = _client(worker_env)
    client.send_task("roadmap.sweep_deadlines", kwargs={"now": "2024-03-27T07:00:00+00:00"})
    wait_for(
        lambda: _count(world.engine, Escalation, Escalation.kind == "reminder") == 3,
        60,
        "the first tick's reminders",
    )
    client.close()
    redis_server.kill()  # everything queued in Redis is gone
    redis_server.start()
    client = _client(worker_env)
    # the next tick, days later: everything that fell due meanwhile is escalated
    wait_for(lambda: _send_until_done(client, world), 60, "the worker to reconnect and sweep")
    client.close()
    assert _count(world.engine, Escalation, Escalation.level == 1) == 3
    assert _count(world.engine, Escalation, Escalation.level == 2) == 3


def _send_until_done(client, world) -> bool:
    client.send_task(
        "roadmap.sweep_deadlines", kwargs={"now": "2024-04-10T07:00:00+00:00"}, expires=5
    )
    try:
        return wait_for(
            lambda: _count(world.engine, Escalation, Escalation.level == 2) == 3, 5, "level 2"
        )
    except AssertionError:
        return False


def test_a_task_that_kills_its_worker_is_parked_not_looped(db_url, worker_env, workers) -> None:
    worker = workers(worker_env, include="tests.poison_tasks")
    client = _client(worker_env)
    result = client.send_task("tests.crash")
    broker = redis.Redis.from_url(worker_env["REDIS_URL"])
    wait_for(lambda: parked(broker), 90, "the poisoned task to be parked")
    [entry] = parked(broker)
    assert entry["task"] == "tests.crash" and entry["id"] == result.id
    assert entry["deliveries"] == 4  # three tries allowed, the fourth delivery parks it
    assert worker.process is not None and worker.process.poll() is None, "the worker lives on"
    client.close()
    broker.close()


def test_the_worker_runs_an_import_queued_from_the_web(
    world, worker_env, workers, tmp_path
) -> None:
    env = {**worker_env, "UPLOAD_DIR": str(tmp_path / "uploads")}
    app = App.build(Settings.from_env(env), workflows.CATALOG, db=world.engine)
    document = tmp_path / "uploads" / "0123.txt"
    document.parent.mkdir(parents=True)
    document.write_bytes(SEED_FILES["003"].read_bytes())
    before = _count(world.engine, Roadmap)
    with unit_of_work(world.engine) as session:
        job_id = queue_import(app, session, load_actor(session, "coord_m1"), document, "003.txt")
    workers(env, beat=True)  # beat asks for queued imports every few seconds
    wait_for(
        lambda: _count(world.engine, ImportJob, ImportJob.status == ImportStatus.DONE) == 1,
        60,
        "the import job",
    )
    assert _count(world.engine, Roadmap) == before + 1
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.get(ImportJob, job_id).activities == 34
