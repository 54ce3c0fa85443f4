"""The Celery application: Redis broker, JSON only, late acks, UTC beat; built by a factory."""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from engine.settings import Settings


def create_celery(settings: Settings) -> Celery:
    """A Celery app configured from `settings`; importing this module has no side effects."""
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: the worker needs Redis as its broker")
    if settings.task_time_limit >= settings.visibility_timeout:
        # with the Redis broker a task still running when its visibility timeout ends is
        # delivered again, to another worker, in a loop
        raise ValueError("CELERY_TASK_TIME_LIMIT must be well under CELERY_VISIBILITY_TIMEOUT")
    app = Celery("roadmap", broker=settings.redis_url, include=["worker.tasks"])
    interval = float(settings.sweep_interval_seconds)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=settings.task_soft_time_limit,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep-deadlines": {
                "task": "roadmap.sweep_deadlines",
                "schedule": interval,
                "options": {"expires": interval},  # a late tick is replaced by the next one
            },
            "send-notifications": {
                "task": "roadmap.send_notifications",
                "schedule": 30.0,
                "options": {"expires": 30.0},
            },
            "run-imports": {
                "task": "roadmap.run_imports",
                "schedule": 5.0,
                "options": {"expires": 5.0},
            },
            "refresh-tally": {
                "task": "roadmap.refresh_tally",
                "schedule": 60.0,
                "options": {"expires": 60.0},
            },
            "clean-files": {
                "task": "roadmap.clean_files",
                "schedule": 3600.0,
                "options": {"expires": 3600.0},
            },
            "daily-digest": {
                "task": "roadmap.daily_digest",
                "schedule": crontab(hour=settings.digest_hour_utc, minute=0),
            },
        },
    )
    app.conf.roadmap_settings = settings
    return app


def _transport_options(settings: Settings) -> dict[str, object]:
    """Redis transport: the visibility timeout, and how often crashed tasks are looked for."""
    options: dict[str, object] = {"visibility_timeout": settings.visibility_timeout}
    if settings.restore_interval:
        # kombu looks for unacknowledged messages past their timeout every interval,
        # scanning on every look rather than on every tenth
        options.update(
            unacked_restore_interval=settings.restore_interval, unacked_restore_throttle=1
        )
    return options
