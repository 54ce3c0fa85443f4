"""The Flask web UI, in Russian: factory only; depends on engine and workflows, never on worker."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, MethodNotAllowed

import workflows
from engine.app import App
from engine.db import make_engine
from engine.errors import NotFoundError, PermissionDeniedError
from engine.settings import Settings
from web.converters import IdConverter
from web.extensions import babel, csrf, login_manager
from web.i18n import compile_translations

log = logging.getLogger(__name__)

#: Every page and file leaves the browser no room for inline scripts or foreign origins.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


HSTS = "max-age=31536000; includeSubDomains"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application; settings come from the environment unless a test gives them."""
    app = Flask(__name__)
    settings = Settings.from_env()
    secret = os.environ.get("SECRET_KEY")
    app.config.from_mapping(
        SECRET_KEY=secret or secrets.token_hex(32),
        DATABASE_URL=settings.database_url,
        ROADMAP_SETTINGS=settings,
        MAX_CONTENT_LENGTH=5 * settings.max_evidence_bytes + 1024 * 1024,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        BABEL_DEFAULT_LOCALE="ru",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        LOGIN_RATE_LIMIT="10 per minute",
    )
    if test_config:
        app.config.from_mapping(test_config)
    if not secret and not app.testing:
        log.warning("SECRET_KEY is not set: a random key is used, sessions end at restart")
    app.extensions["roadmap.engine"] = make_engine(app.config["DATABASE_URL"])
    app.config["ROADMAP_SETTINGS"] = app.config.get("ROADMAP_SETTINGS") or settings
    app.extensions["roadmap"] = App.build(
        app.config["ROADMAP_SETTINGS"], workflows.CATALOG, db=app.extensions["roadmap.engine"]
    )

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Войдите, чтобы продолжить.")
    # No IP or browser binding: Flask-Login's "strong" mode only marks permanent sessions
    # non-fresh, and a school director's phone changes address all day. A stolen cookie dies
    # with its session token instead, which sign-out and a password change rotate.
    login_manager.session_protection = None
    csrf.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_translations())
    babel.init_app(app, locale_selector=_locale, timezone_selector=_timezone)

    app.url_map.converters["int"] = IdConverter  # before any route is added
    from web import (
        api,
        auth,
        coordination,
        corrections,
        directory,
        documents,
        inbox,
        occurrences,
        review,
        rounds,
        template_helpers,
    )

    blueprints = (
        auth.bp,
        occurrences.bp,
        documents.bp,
        rounds.bp,
        review.bp,
        coordination.bp,
        corrections.bp,
        inbox.bp,
        directory.bp,
        api.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    template_helpers.register(app)

    @app.before_request
    def no_nul_characters():  # type: ignore[no-untyped-def]
        """A NUL in a query or form value is no one's input (and PostgreSQL refuses it)."""
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            if request.path.startswith("/api/"):
                return api_error(422, "invalid", "a value holds a NUL character")
            return render_template(
                "error.html", code=400, message=gettext("Недопустимый символ в запросе.")
            ), 400
        return None

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        """Liveness and database reachability, for load balancers and compose."""
        with app.extensions["roadmap.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.get("/")
    def home():  # type: ignore[no-untyped-def]
        """Each kind of user starts where their work is."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        if current_user.is_curator:
            return redirect(url_for("review.queue"))
        if current_user.is_coordinator:
            return redirect(url_for("coordination.dashboard"))
        return redirect(url_for("occurrences.task_list"))

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS: stay on HTTPS
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.path.startswith(("/evidence", "/roadmaps")) or current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def api_error(status: int, code: str, message: str, headers: Any = ()):  # type: ignore[no-untyped-def]
        """The API answers in JSON, for unknown paths and methods too."""
        return jsonify(error={"code": code, "message": message}), status, headers

    @app.get("/favicon.ico")
    def favicon():  # type: ignore[no-untyped-def]
        """Browsers ask for it on every page; the icon is an SVG among the static files."""
        return redirect(url_for("static", filename="favicon.svg"), code=301)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if isinstance(error, MethodNotAllowed) and not _matches_another_method(error):
            return not_found(error)  # an id out of range: no method has such a path
        if not request.path.startswith("/api/"):
            return error
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return api_error(error.code or 500, "http", error.description or "", headers)

    @app.errorhandler(NotFoundError)
    @app.errorhandler(404)
    def not_found(error):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return api_error(404, "not_found", "no such resource")
        return render_template("error.html", code=404, message=gettext("Страница не найдена.")), 404

    @app.errorhandler(PermissionDeniedError)
    @app.errorhandler(403)
    def forbidden(error):  # type: ignore[no-untyped-def]
        return render_template("error.html", code=403, message=gettext("Нет доступа.")), 403

    @app.errorhandler(413)
    def too_large(error):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return api_error(413, "too_large", "the request is larger than the limit")
        return render_template(
            "error.html", code=413, message=gettext("Файлы слишком большие.")
        ), 413

    @app.errorhandler(429)
    def too_many(error):  # type: ignore[no-untyped-def]
        return render_template(
            "error.html",
            code=429,
            message=gettext("Слишком много попыток входа. Подождите минуту."),
        ), 429

    return app


def _matches_another_method(error: MethodNotAllowed) -> bool:
    """Whether the path really is served for one of the methods werkzeug offers: it offers
    those whose pattern matches before their ids are checked (an id of 0 or past the largest
    one matches none of them)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in error.valid_methods or ():
        if method in ("HEAD", "OPTIONS"):
            continue
        try:
            adapter.match(request.path, method=method)
        except HTTPException:
            continue
        return True
    return False


def _locale() -> str:
    """Russian unless the user chose English (kept in the session)."""
    return session.get("lang", "ru")


def _timezone() -> str:
    zone = getattr(current_user, "timezone", None)
    return zone or current_app.config["ROADMAP_SETTINGS"].timezone
