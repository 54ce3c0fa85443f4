"""URL and query values that are ids: anything a database id cannot be is a 404, not a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.routing import IntegerConverter

from engine.db import MAX_ID, as_id

#: Pages past this are empty anyway; the bound keeps OFFSET inside a 64-bit integer.
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: 1 to MAX_ID, else the route does not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def query_id(text: str) -> int:
    """`type=` for request.args.get: an id, or ValueError so the default is used."""
    value = as_id(text)
    if value is None:
        raise ValueError(f"not an id: {text[:20]!r}")
    return value


def query_page(text: str) -> int:
    """`type=` for ?page=: 1 to MAX_PAGE, or ValueError."""
    value = query_id(text)
    if value > MAX_PAGE:
        raise ValueError("page out of range")
    return value


def query_date(text: str) -> date:
    """`type=` for a date field (YYYY-MM-DD, as `<input type=date>` sends it), or ValueError."""
    return date.fromisoformat(text[:10])
