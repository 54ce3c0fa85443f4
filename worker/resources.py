"""Per-process resources of a worker: the application and its database, rebuilt after a fork."""

from __future__ import annotations

from functools import lru_cache

import redis
from celery.signals import worker_process_init
from sqlalchemy import Engine

import workflows
from engine.app import App
from engine.db import make_engine
from engine.settings import Settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    """This process's settings."""
    return Settings.from_env()


@lru_cache(maxsize=1)
def engine() -> Engine:
    """This process's database engine."""
    return make_engine(settings().database_url)


@lru_cache(maxsize=1)
def app() -> App:
    """This process's application, on its engine."""
    return App.build(settings(), workflows.CATALOG, db=engine())


@lru_cache(maxsize=1)
def broker() -> redis.Redis:
    """A Redis client on the broker, for the delivery counter."""
    return redis.Redis.from_url(settings().redis_url or "redis://127.0.0.1:6379/0")


@worker_process_init.connect
def _after_fork(**_: object) -> None:
    """A forked child must not share its parent's connections: start it with fresh pools."""
    if engine.cache_info().currsize:
        engine().dispose(close=False)
    engine.cache_clear()
    app.cache_clear()
    broker.cache_clear()
