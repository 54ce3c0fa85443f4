"""Settings and database plumbing: URLs, time zones, defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, literal, select

from engine.db import Prepared, normalize_url, unit_of_work
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


def test_prepared_statements_write_what_the_orm_reads_back(db) -> None:
    """Binds go through their types (a Moscow time is stored as UTC), literals are kept."""
    moscow = timezone(timedelta(hours=3))
    add = Prepared(
        insert(User.__table__).values(
            login=bindparam("login"),
            full_name=literal("Прямая вставка"),
            password_hash=literal("x"),
            role=literal("admin"),
            is_active=literal(True),
            created_at=bindparam("at", type_=User.__table__.c.created_at.type),
            session_token=literal("t"),
        )
    )
    with unit_of_work(db) as session:
        add.run(session.connection(), {"login": "p", "at": datetime(2024, 3, 1, 12, tzinfo=moscow)})
    with unit_of_work(db, readonly=True) as session:
        row = session.execute(select(User.full_name, User.created_at)).one()
    assert row == ("Прямая вставка", datetime(2024, 3, 1, 9, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive datetime"):
        with unit_of_work(db) as session:
            add.run(session.connection(), {"login": "n", "at": datetime(2024, 3, 1)})


def test_prepared_statements_refuse_expanding_in_lists(db) -> None:
    listed = Prepared(select(User.id).where(User.role.in_(["admin", "school"])))
    with unit_of_work(db, readonly=True) as session, pytest.raises(ValueError, match="IN lists"):
        listed.run(session.connection(), {})
