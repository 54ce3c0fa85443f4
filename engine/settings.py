"""One settings object, read from the environment, shared by the CLI, the web and the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("instance")


@dataclass(frozen=True)
class Settings:
    """Configuration of one process; every field comes from an environment variable."""

    database_url: str
    evidence_dir: Path
    max_evidence_bytes: int
    upload_dir: Path = Path("instance/uploads")
    redis_url: str | None = None
    timezone: str = "Europe/Moscow"
    public_url: str = "http://127.0.0.1:8000"
    sweep_interval_seconds: int = 60
    sweep_batch_size: int = 2000
    digest_hour_utc: int = 5
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 30.0
    mail_from: str = "Roadmap Engine <roadmap@localhost>"
    visibility_timeout: int = 3600
    restore_interval: int | None = None
    task_time_limit: int = 600
    max_deliveries: int = 5
    sweep_time_budget: float | None = None

    @property
    def task_soft_time_limit(self) -> int:
        """When a task is interrupted; the hard limit then kills what is left."""
        return max(self.task_time_limit - 30, self.task_time_limit // 2)

    @property
    def sweep_budget(self) -> float:
        """Seconds one sweep task works before it hands the rest to a new task, between batches."""
        return self.sweep_time_budget or self.task_soft_time_limit / 2

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment)."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("ROADMAP_DATA_DIR", str(DEFAULT_DATA_DIR)))
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'roadmap.db'}",
            evidence_dir=Path(env.get("EVIDENCE_DIR") or data_dir / "evidence"),
            max_evidence_bytes=int(env.get("MAX_EVIDENCE_BYTES", str(20 * 1024 * 1024))),
            upload_dir=Path(
                env.get("UPLOAD_DIR")
                or Path(env.get("EVIDENCE_DIR") or data_dir / "evidence").parent / "uploads"
            ),
            redis_url=env.get("REDIS_URL") or None,
            timezone=env.get("ROADMAP_TIMEZONE", "Europe/Moscow"),
            public_url=env.get("PUBLIC_URL", "http://127.0.0.1:8000"),
            sweep_interval_seconds=int(env.get("SWEEP_INTERVAL_SECONDS", "60")),
            sweep_batch_size=int(env.get("SWEEP_BATCH_SIZE", "2000")),
            digest_hour_utc=int(env.get("DIGEST_HOUR_UTC", "5")),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=int(env.get("SMTP_PORT", "25")),
            smtp_security=_choice(env, "SMTP_SECURITY", "none", ("none", "starttls", "ssl")),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_timeout=float(env.get("SMTP_TIMEOUT", "30")),
            mail_from=env.get("MAIL_FROM", "Roadmap Engine <roadmap@localhost>"),
            visibility_timeout=int(env.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
            restore_interval=int(env["CELERY_RESTORE_INTERVAL"])
            if env.get("CELERY_RESTORE_INTERVAL")
            else None,
            task_time_limit=int(env.get("CELERY_TASK_TIME_LIMIT", "600")),
            max_deliveries=int(env.get("CELERY_MAX_DELIVERIES", "5")),
            sweep_time_budget=float(env["SWEEP_TIME_BUDGET"])
            if env.get("SWEEP_TIME_BUDGET")
            else None,
        )


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value
