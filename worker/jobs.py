"""What the scheduled work does, once: shared by the Celery tasks and the embedded scheduler."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.accounts.signin import forget_failures
from engine.app import App
from engine.db import unit_of_work
from engine.escalation.sweep import SweepPaused, sweep
from engine.models import utcnow
from engine.notices.digest import write_digests
from engine.notices.mail import SmtpSender
from engine.notices.outbox import deliver_pending, pending_count
from engine.readmodels.tally import refresh
from engine.usecases.importing import requeue_stale, run_queued
from engine.work.evidence import remove_orphans, remove_stale_uploads

log = logging.getLogger(__name__)


def parse_now(text: str | None) -> datetime:
    """An ISO instant (a naive one is UTC), or the current instant."""
    if not text:
        return utcnow()
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def run_sweep(app: App, now: datetime, until: float | None = None) -> dict[str, object]:
    """One deadline sweep; its counts as JSON-ready data, with "paused" if it stopped at `until`."""
    settings = app.settings
    try:
        result = sweep(
            app.db,
            app.policies,
            now,
            timezone=settings.timezone,
            batch_size=settings.sweep_batch_size,
            until=until,
        )
    except SweepPaused as paused:
        counts = paused.result.to_dict()
        log.info("sweep as of %s paused: %s so far", now.isoformat(), counts)
        return {**counts, "paused": True}
    counts = result.to_dict()
    log.info("sweep as of %s: %s", now.isoformat(), counts)
    return counts


def run_tally(app: App, now: datetime | None = None) -> bool:
    """Rebuild the progress tally as of today unless it is current; whether it was rebuilt."""
    day = (now or utcnow()).astimezone(ZoneInfo(app.settings.timezone)).date()
    with unit_of_work(app.db) as session:
        rebuilt = refresh(session, day, app.settings.timezone)
    if rebuilt:
        log.info("progress tally rebuilt as of %s", day)
    return rebuilt


def run_send(app: App) -> int:
    """Send the waiting e-mails; without SMTP settings they stay in the outbox and the log."""
    settings = app.settings
    if not settings.smtp_host:
        with unit_of_work(app.db, readonly=True) as session:
            waiting = pending_count(session)
        if waiting:
            log.info("SMTP is not configured: %d e-mails wait in the outbox", waiting)
        return 0
    return deliver_pending(app.db, app.registry, SmtpSender(settings), base_url=settings.public_url)


def run_digest(app: App, day: date | None = None) -> int:
    """Write today's digests."""
    now = utcnow()
    day = day or now.astimezone(ZoneInfo(app.settings.timezone)).date()
    with unit_of_work(app.db) as session:
        return write_digests(session, app.policies, day, now)


def run_imports(app: App) -> int:
    """Import the roadmap documents queued from the web; how many jobs ran."""
    ran = run_queued(app)
    if ran:
        log.info("ran %d queued imports", ran)
    return ran


#: Files younger than this are left alone: their transaction may still be running.
FILE_GRACE = timedelta(hours=1)


def run_cleanup(app: App, now: datetime | None = None) -> dict[str, int]:
    """Delete evidence files no row names and roadmap previews never confirmed."""
    cutoff = (now or utcnow()) - FILE_GRACE
    with unit_of_work(app.db, readonly=True) as session:
        orphans = remove_orphans(session, app.settings.evidence_dir, cutoff)
    with unit_of_work(app.db) as session:  # no limit window is longer than a day
        forget_failures(session, (now or utcnow()) - timedelta(days=1))
    previews = remove_stale_uploads(app.settings.upload_dir, cutoff)
    if requeued := requeue_stale(app, cutoff):  # their runner died; nothing was written
        log.warning("cleanup: %d import jobs queued again", requeued)
    if orphans or previews:
        log.info("cleanup: %d orphan files, %d stale previews removed", orphans, previews)
    return {"orphans": orphans, "previews": previews}
