"""Thin Celery tasks: parse input, call one job with ids and plain values, report the result."""

from __future__ import annotations

import logging
import time
from datetime import date

from celery import shared_task

from worker import jobs, resources
from worker.guard import GuardedTask

log = logging.getLogger(__name__)

SWEEP_PARTS = 100  # a sweep out of time goes on in a new task this many times at most


@shared_task(name="roadmap.sweep_deadlines", base=GuardedTask)
def sweep_deadlines(now: str | None = None, part: int = 1) -> dict[str, object]:
    """Run one deadline sweep as of `now` (ISO; default: the current instant), then mail.

    The sweep commits batch by batch and writes each step once. When its time budget is spent
    it stops between two batches and a new task goes on as of the same instant, so a long
    sweep never meets the time limit that would cut a statement in half.
    """
    instant = jobs.parse_now(now)
    counts = jobs.run_sweep(resources.app(), instant, until=time.monotonic() + _budget())
    if counts.get("paused"):
        if part >= SWEEP_PARTS:
            log.error("sweep as of %s still unfinished after %d parts", instant, part)
        else:
            log.warning("sweep as of %s used its time; part %d goes on", instant, part + 1)
            sweep_deadlines.apply_async(kwargs={"now": instant.isoformat(), "part": part + 1})
        send_notifications.delay()  # what the finished batches committed may go
        return {"continued": part + 1}
    send_notifications.delay()  # the sweep has committed: the mail may go
    return counts


def _budget() -> float:
    return resources.app().settings.sweep_budget


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


@shared_task(name="roadmap.refresh_tally", base=GuardedTask)
def refresh_tally() -> bool:
    """Rebuild the dashboards' progress tally when the day has changed or it went stale."""
    return jobs.run_tally(resources.app())
