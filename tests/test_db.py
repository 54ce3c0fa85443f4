"""Settings and database plumbing: URLs, time zones, defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import normalize_url, unit_of_work
from engine.models import User
from engine.settings import Settings


def test_settings_default_to_an_embedded_sqlite_file() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///instance/roadmap.db"
    assert settings.evidence_dir == Path("instance/evidence")


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "EVIDENCE_DIR": "/srv/files",
            "MAX_EVIDENCE_BYTES": "1024",
        }
    )
    assert (settings.database_url, settings.evidence_dir, settings.max_evidence_bytes) == (
        "postgresql+psycopg://u@h/db",
        Path("/srv/files"),
        1024,
    )


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_plain_postgres_urls_use_psycopg3(url: str) -> None:
    assert normalize_url(url).drivername == "postgresql+psycopg"


def test_timestamps_come_back_aware_and_in_utc(db) -> None:
    moscow = timezone(timedelta(hours=3))

    def user(login: str, created_at: datetime) -> User:
        return User(
            login=login, full_name=login, password_hash="x", role="admin", created_at=created_at
        )

    with unit_of_work(db) as session:
        session.add(user("k", datetime(2024, 3, 1, 12, tzinfo=moscow)))
    with unit_of_work(db, readonly=True) as session:
        stored = session.execute(select(User.created_at)).scalar_one()
    assert stored == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert stored.tzinfo is not None
    with pytest.raises(Exception, match="naive datetime"):
        with unit_of_work(db) as session:
            session.add(user("n", datetime(2024, 3, 1)))
