"""Database engines and units of work for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

_ON_COMMIT = "roadmap_on_commit"
_DEFERRED = "sqlite_deferred"


def normalize_url(url: str | URL) -> URL:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: object) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` writers."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, **kwargs)
    if parsed.database in (None, "", ":memory:"):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(parsed, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Take transaction control from pysqlite so writers lock at BEGIN, not at first write.

    Two plain `BEGIN` writers deadlock into "database is locked" when both upgrade their
    read lock, and SQLite ignores `FOR UPDATE`; `BEGIN IMMEDIATE` serializes them up front.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        # SQLite folds only ASCII; names here are Cyrillic ("Ершичская" vs "ершичская")
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # `single_read`: each statement is its own transaction
        deferred = options.get(_DEFERRED, False)
        # straight to the driver: this runs once per transaction, and the engine's own
        # statement machinery would cost more than the BEGIN itself
        conn.connection.dbapi_connection.execute("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` after the unit of work around `session` commits; never on rollback."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


@contextmanager
def unit_of_work(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """Open one transaction around a service call: commit on success, roll back on error.

    Callbacks registered with `on_commit` run only once the commit has succeeded, so mail
    and tasks never announce a change that was rolled back.
    """
    bind = engine.execution_options(**{_DEFERRED: True}) if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        with session.begin():
            yield session
        callbacks = session.info.pop(_ON_COMMIT, [])
    for callback in callbacks:
        callback()


@contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for one reading statement, outside any transaction.

    One statement is already atomic; leaving out BEGIN and COMMIT saves two round trips on
    PostgreSQL, which matters on paths taken by every request, like the signed-in user.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection
