"""The curator's desk between pages: the queue's filter, kept for «… и к следующей»."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request, session, url_for
from werkzeug.datastructures import MultiDict

from engine.lifecycle.definition import SubjectKind
from engine.readmodels.review import SEARCH_LIMIT, SORTS, QueueFilter, next_in_queue
from web.context import actor, application, subject_url, user_zone, work
from web.converters import query_id

#: The queue's query parameters that make its filter.
FILTER_KEYS = ("school", "kind", "late", "q", "sort")
#: The form field of an action button that asks to go on to the next item.
THEN = "then"


def desk_filter(args: Mapping[str, Any]) -> QueueFilter:
    """The queue's filter from its query string; anything unreadable is left out."""
    values = MultiDict(args)
    kind = values.get("kind")
    sort = values.get("sort")
    return QueueFilter(
        school_id=values.get("school", type=query_id),
        kind=SubjectKind(kind) if kind in set(SubjectKind) else None,
        late_only=values.get("late") == "1",
        text=(values.get("q") or "")[:SEARCH_LIMIT],
        sort=sort if sort in SORTS else SORTS[0],
    )


def remember_filter() -> dict[str, str]:
    """Keep the queue's filter in the session for the item pages; return it."""
    kept = {key: request.args[key][:SEARCH_LIMIT] for key in FILTER_KEYS if request.args.get(key)}
    if session.get("desk") != kept:
        session["desk"] = kept
    return kept


def queue_url() -> str:
    """The queue as the curator last filtered it."""
    return url_for("review.queue", **session.get("desk", {}))


def next_url(kind: SubjectKind, subject_id: int) -> str:
    """The page of the next item of the kept filter after the one just decided, else the
    queue."""
    with work(readonly=True) as db:
        item = next_in_queue(
            application(),
            db,
            actor(),
            desk_filter(session.get("desk", {})),
            after=(kind.value, subject_id),
            zone=user_zone(),
        )
    if item is None:
        return queue_url()
    return subject_url(item.kind, item.id)


def wants_next() -> bool:
    """The action's button asked to go on to the next item."""
    return request.form.get(THEN) == "next"
