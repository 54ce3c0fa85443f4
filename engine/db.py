"""Database engines and units of work for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

from sqlalchemy import ClauseElement, Connection, Dialect, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

_ON_COMMIT = "roadmap_on_commit"
_ON_ROLLBACK = "roadmap_on_rollback"
_DEFERRED = "sqlite_deferred"


#: The largest id a row can have: ids are INTEGER columns, 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1


def as_id(text: str) -> int | None:
    """The id written in `text` (ASCII digits, 1 to MAX_ID), or None for anything else."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


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
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
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
    def _on_begin(conn: Any) -> None:  # a Connection, whose driver connection is pysqlite
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


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` if the unit of work around `session` does not commit (undo a file)."""
    session.info.setdefault(_ON_ROLLBACK, []).append(callback)


@contextmanager
def unit_of_work(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """Open one transaction around a service call: commit on success, roll back on error.

    Callbacks registered with `on_commit` run only once the commit has succeeded, so mail
    and tasks never announce a change that was rolled back; those registered with
    `on_rollback` run when it did not commit, so no file outlives its row.
    """
    bind = engine.execution_options(**{_DEFERRED: True}) if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            with session.begin():
                yield session
        except BaseException:
            for undo in session.info.pop(_ON_ROLLBACK, []):
                undo()
            raise
        session.info.pop(_ON_ROLLBACK, None)
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


class Prepared:
    """A Core statement compiled once per dialect and run straight on the driver's cursor.

    For the hottest path only (firing a trigger): SQLAlchemy's execution machinery costs
    more than the statement itself there. Binds are processed by their types' own bind
    processors, exactly as SQLAlchemy would; what comes back is the driver's cursor, its rows
    plain tuples without result processing, so statements run this way return plain values
    (ids, states, numbers, flags). Statement events do not fire for them.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def run(self, connection: Connection, params: dict[str, Any]) -> Ran:
        """Execute in `connection`'s transaction; return its count and rows, cursor closed."""
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = _Compiled(
                self.statement, connection.dialect
            )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # a checked-out connection always has one
        try:
            cursor.execute(compiled.sql, compiled.arguments(params))
            rows = list(cursor.fetchall()) if cursor.description is not None else []
            return Ran(cursor.rowcount, rows)
        finally:
            cursor.close()


class Ran(NamedTuple):
    """What a prepared statement did: rows it changed, and the rows it returned."""

    rowcount: int
    rows: list[tuple[Any, ...]]

    def first(self) -> tuple[Any, ...] | None:
        """The first row returned, if any."""
        return self.rows[0] if self.rows else None


class _Compiled:
    """SQL text, bind order and bind processors of one statement for one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))  # DML and SELECT
        if compiled.post_compile_params:
            raise ValueError("IN lists are expanded per execution; write them as OR of binds")
        self.sql = compiled.string
        self.positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.constants: dict[str, Any] = {}
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            key = compiled.escaped_bind_names.get(name, name)
            if key != name:
                raise ValueError(f"bind {name!r} needs escaping; rename it")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor
            if bind.value is not None or not bind.required:
                self.constants[name] = bind.effective_value

    def arguments(self, params: dict[str, Any]) -> Any:
        """The driver's parameters: constants and `params`, each through its processor."""
        values = {**self.constants, **params}
        for name, processor in self.processors.items():
            value = values.get(name)
            if value is not None:
                values[name] = processor(value)
        if self.positional is None:
            return values
        return tuple(map(values.__getitem__, self.positional))
