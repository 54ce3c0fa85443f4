"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import engine.models  # noqa: F401
from cli.main import main
from engine.db import make_engine, unit_of_work
from engine.demo import load_demo
from engine.lifecycle import statements
from engine.lifecycle.definition import WorkflowRegistry
from engine.migrate import upgrade
from tests.factories import REGISTRY, World, build_world
from tests.processes import RedisServer
from web import create_app

#: Where tests may create and drop their own PostgreSQL databases.
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


def _admin_engine() -> Engine:
    return create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run `postgres_only` and `sqlite_only` tests on their one backend, not as skips."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("db_url")
        wrong = (backend == "sqlite" and item.get_closest_marker("postgres_only")) or (
            backend == "postgresql" and item.get_closest_marker("sqlite_only")
        )
        (drop if wrong else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets its own copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    template = make_engine(f"sqlite:///{path}")
    upgrade(template)
    template.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    name = f"roadmap_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrated = make_engine(url)
    upgrade(migrated)
    migrated.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "roadmap.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    cleaner = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with cleaner.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    cleaner.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def registry() -> WorkflowRegistry:
    """The product's workflow registry."""
    return REGISTRY


@pytest.fixture
def world(db: Engine) -> World:
    """Two municipalities, three schools, their people, and occurrences to work on."""
    return build_world(db, REGISTRY)


#: The day the demo is built around in web, API and browser tests.
DEMO_DAY = date(2024, 1, 10)


@pytest.fixture
def demo(db: Engine) -> Engine:
    """The product's demo on the test database, built around DEMO_DAY."""
    with unit_of_work(db) as session:
        load_demo(session, REGISTRY, DEMO_DAY)
    return db


@pytest.fixture
def make_web_app(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Flask]]:
    """Build the web app on the test database, as `create_app` does in production; every app
    built is disposed of at the end. Keyword arguments are its test config."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    built: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app(config)
        built.append(app)
        return app

    yield make
    for app in built:
        for runner in app.extensions.get("roadmap.import_runners", ()):
            runner.join(timeout=60)  # an import still running would leak its connection
        app.extensions["roadmap.engine"].dispose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free port: nothing shared is flushed."""
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def roadmap(db_url, tmp_path, monkeypatch, capsys):
    """Run `roadmap ARGS` in-process against the test database; return (code, out, err)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(autouse=True)
def _fresh_statements() -> None:
    """Under `make mutate`, build the cached statements anew for each test, so mutmut sees
    every test that reaches the code they are built from (not only the first)."""
    if os.environ.get("ROADMAP_MUTATING"):
        for built in (
            statements.standing_query,
            statements.notices_of,
            statements.write_at_once,
        ):
            built.cache_clear()
