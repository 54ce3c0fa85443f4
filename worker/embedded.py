"""Embedded mode: with no Redis, the same jobs run in-process on the same schedule."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from engine.app import App
from engine.models import utcnow
from worker import jobs

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    """Sweep every `sweep_interval_seconds`, send mail after each sweep, keep the dashboards'
    tally current, digest once a day."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._digest_day = None
        self._cleaned_at: datetime | None = None

    def tick(self) -> dict[str, object]:
        """One round: the sweep, the mail, and the digest when its hour has come."""
        now = utcnow()
        counts = jobs.run_sweep(self.app, now)
        jobs.run_send(self.app)
        jobs.run_imports(self.app)  # any the web's own thread left behind
        jobs.run_tally(self.app, now)
        if self._cleaned_at is None or now - self._cleaned_at >= timedelta(hours=1):
            jobs.run_cleanup(self.app, now)
            self._cleaned_at = now
        if now.hour >= self.settings.digest_hour_utc and self._digest_day != now.date():
            jobs.run_digest(self.app)
            jobs.run_send(self.app)
            self._digest_day = now.date()
        return counts

    def run(self) -> None:
        """Tick until stopped; an error in one tick is logged and the next tick comes anyway."""
        interval = timedelta(seconds=self.settings.sweep_interval_seconds)
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep enforcing deadlines after a bad tick
                log.exception("deadline tick failed")
            self._stop.wait(interval.total_seconds())

    def start(self) -> EmbeddedScheduler:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="deadlines", daemon=True)
        self._thread.start()
        return self

    def join(self) -> None:
        """Wait for the thread (until the process is interrupted)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(1)

    def stop(self) -> None:
        """Stop after the current tick."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
