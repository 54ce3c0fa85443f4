"""One error table: each domain error carries its code, HTTP status, exit code and message."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel

from engine.errors import (
    KINDS,
    REASONS,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from web.i18n import compile_translations
from web.messages import russian


def test_the_table() -> None:
    table = {kind.__name__: (kind.code, kind.status, kind.exit_code) for kind in KINDS}
    assert table == {
        "NotFoundError": ("not_found", 404, 4),
        "PermissionDeniedError": ("forbidden", 403, 3),
        "InvalidTransitionError": ("invalid_transition", 409, 1),
        "ConflictError": ("conflict", 409, 5),
        "ValidationError": ("invalid", 422, 1),
    }


@pytest.fixture
def english_app() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_translations())
    Babel(app, locale_selector=lambda: "en")
    return app


def test_a_reason_survives_rewording_and_is_translated(english_app: Flask) -> None:
    """The page's message comes from the reason, never from the English text."""
    reworded = ValidationError("a wholly new English sentence", reason="comment_required")
    assert russian(reworded) == REASONS["comment_required"]
    with english_app.test_request_context():
        english = russian(reworded)
    assert english != REASONS["comment_required"] and english.isascii()


def test_each_kind_has_its_own_message_without_a_reason() -> None:
    assert russian(NotFoundError("x")) == NotFoundError.message
    assert russian(PermissionDeniedError("x")) == PermissionDeniedError.message
    assert russian(ConflictError("x")) == ConflictError.message
    assert russian(InvalidTransitionError("go", "a", [])) == InvalidTransitionError.message
    # a validation error with no reason shows its own text
    assert russian(ValidationError("Строка 3: нет названия")) == "Строка 3: нет названия"


def test_an_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="no_such_reason"):
        ValidationError("x", reason="no_such_reason")
