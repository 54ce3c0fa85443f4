"""`roadmap serve`'s supervisor: gunicorn for the UI, and Celery or the embedded scheduler."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

import click
import redis

from engine.app import App
from worker.embedded import EmbeddedScheduler

LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def supervise(app: App, *, no_web: bool, host: str, port: int) -> None:
    """Run the UI and the deadline scheduler until stopped; stop the children on the way out."""
    settings = app.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "EVIDENCE_DIR": str(settings.evidence_dir),
    }
    if not env.get("SECRET_KEY"):
        # one key for every gunicorn worker; sessions end when serve restarts
        env["SECRET_KEY"] = secrets.token_hex(32)
    children: list[subprocess.Popen[bytes]] = []
    scheduler = None
    redis_url = settings.redis_url or LOCAL_REDIS
    if _redis_answers(redis_url):
        click.echo(f"Redis at {redis_url}: a Celery worker with beat enforces deadlines")
        env["REDIS_URL"] = redis_url
        schedule = Path(settings.evidence_dir).parent / "celerybeat-schedule"
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "worker.celery_app",
                    "worker",
                    "--beat",
                    "--schedule",
                    str(schedule),
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                ],
                env=env,
            )
        )
    else:
        click.echo(
            "Redis is not reachable: deadlines are enforced in-process, every "
            f"{settings.sweep_interval_seconds} s"
        )
        scheduler = EmbeddedScheduler(app).start()
    if not no_web:
        click.echo(f"The UI is at http://{host}:{port}/login — stop with Ctrl-C")
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "python:web.gunicorn_conf",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "web.wsgi:app",
                ],
                env=env,
            )
        )
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    # SIGTERM (a supervisor, `kill`, `timeout`) and SIGINT (Ctrl-C) alike: stop the children
    # instead of leaving them re-parented to init, still holding the port
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping.is_set():
            if any(child.poll() is not None for child in children):
                break  # a child died: stop the rest rather than serve half a product
            stopping.wait(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)
        if scheduler is not None:
            scheduler.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("stopped")


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False
