"""Entry point: `celery -A worker.celery_app worker|beat`. The only module with side effects."""

from __future__ import annotations

from engine.settings import Settings
from worker.app import create_celery

app = create_celery(Settings.from_env())
