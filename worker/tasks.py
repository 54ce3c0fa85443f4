"""Thin Celery tasks: parse input, call one job with ids and plain values, report the result."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from worker import jobs, resources
from worker.guard import GuardedTask


@shared_task(name="roadmap.sweep_deadlines", base=GuardedTask)
def sweep_deadlines(now: str | None = None) -> dict[str, object]:
    """Run one deadline sweep as of `now` (ISO; default: the current instant), then mail."""
    counts = jobs.run_sweep(resources.app(), jobs.parse_now(now))
    send_notifications.delay()  # the sweep has committed: the mail may go
    return counts


@shared_task(name="roadmap.send_notifications", base=GuardedTask)
def send_notifications() -> int:
    """Send the e-mails waiting in the outbox."""
    return jobs.run_send(resources.app())


@shared_task(name="roadmap.daily_digest", base=GuardedTask)
def daily_digest(day: str | None = None) -> int:
    """Write the daily digests, then mail them."""
    written = jobs.run_digest(resources.app(), date.fromisoformat(day) if day else None)
    send_notifications.delay()
    return written


@shared_task(name="roadmap.clean_files", base=GuardedTask)
def clean_files() -> dict[str, int]:
    """Delete orphan evidence files and stale previews."""
    return jobs.run_cleanup(resources.app())


@shared_task(name="roadmap.run_imports", base=GuardedTask)
def run_imports() -> int:
    """Import the roadmap documents queued from the web."""
    return jobs.run_imports(resources.app())
