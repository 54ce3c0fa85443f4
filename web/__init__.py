"""The Flask web UI: factory only; depends on engine and workflows, never on worker."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

from engine.db import make_engine
from engine.settings import Settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application; settings come from the environment unless a test gives them."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.from_mapping(DATABASE_URL=settings.database_url)
    if test_config:
        app.config.from_mapping(test_config)
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["roadmap.engine"] = engine

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        """Liveness and database reachability, for load balancers and compose."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return jsonify(status="ok")

    return app
