"""JSON API under /api/v1: bearer tokens, the same engine services, errors as JSON."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.accounts.access import Actor
from engine.accounts.users import note_token_use, user_for_token
from engine.errors import (
    DomainError,
    InvalidTransitionError,
    ValidationError,
)
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import utcnow
from engine.readmodels.subjects import history, occurrence_detail
from engine.readmodels.worklist import task_list
from engine.work import evidence as evidence_service
from web.context import application, settings, today, work
from web.converters import query_id, query_page
from web.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: nothing for a forged form to ride on

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


def _error(status: int, code: str, message: str, **extra: Any):  # type: ignore[no-untyped-def]
    return jsonify(error={"code": code, "message": message, **extra}), status


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):  # type: ignore[no-untyped-def]
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidTransitionError):
        extra = {"state": error.state, "allowed": error.allowed}
    if error.reason is not None:
        extra["reason"] = error.reason
    return _error(error.status, error.code, str(error), **extra)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    return _error(error.code or 500, "http", error.description or error.name)


@bp.before_request
def authenticate():  # type: ignore[no-untyped-def]
    """Every endpoint but the OpenAPI document needs `Authorization: Bearer <token>`."""
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _error(401, "unauthorized", "send Authorization: Bearer <token>")
    with work(readonly=True) as db:
        found = user_for_token(db, token.strip())
        if found is None:
            return _error(401, "unauthorized", "the token is unknown, expired or revoked")
        user = found.user
        g.api_actor = Actor(user.id, user.login, user.role, user.organization_id)  # type: ignore[arg-type]
    if found.stale(utcnow()):  # written at most hourly: the API stays a read
        with work() as db:
            note_token_use(db, found.token_id)
    return None


def _actor() -> Actor:
    return g.api_actor


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


@bp.get("/occurrences")
def list_occurrences():  # type: ignore[no-untyped-def]
    """Occurrences visible to the token's user, by due date, one page at a time."""
    page = request.args.get("page", 1, type=query_page)
    per_page = min(request.args.get("per_page", 50, type=query_id), 200)
    with work(readonly=True) as db:
        result, overdue = task_list(
            application(),
            db,
            _actor(),
            today(),
            state=request.args.get("state"),
            school_id=request.args.get("school", type=query_id),
            page=page,
            per_page=per_page,
        )
    return jsonify(
        page=page,
        per_page=per_page,
        total=result.total,
        overdue=overdue,
        items=[
            {
                "id": r.id,
                "number": r.number,
                "title": r.title,
                "section": r.section,
                "school": r.school,
                "due_on": _iso(r.due_on),
                "state": r.state,
                "escalation_level": r.escalation_level,
                "overdue": bool(r.overdue),
            }
            for r in result.rows
        ],
    )


@bp.get("/occurrences/<int:occurrence_id>")
def get_occurrence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """One occurrence with its evidence list."""
    with work(readonly=True) as db:
        d = occurrence_detail(db, _actor(), occurrence_id)
    return jsonify(
        id=d.id,
        version=d.version,
        state=d.state,
        due_on=_iso(d.due_on),
        school=d.assignee,
        roadmap=d.roadmap,
        number=d.number,
        title=d.title,
        escalation_level=d.escalation_level,
        evidence=[
            {"id": e.id, "name": e.name, "size": e.size_bytes, "sha256": e.sha256}
            for e in d.evidence
        ],
    )


@bp.post("/occurrences/<int:occurrence_id>/transitions")
def post_transition(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Fire a trigger: {"trigger": "...", "comment": "...", "report_text": "..."}."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ValidationError("the JSON body is nested too deeply") from None
    if not isinstance(body, dict) or not isinstance(body.get("trigger"), str):
        raise ValidationError('send a JSON object with a "trigger"')
    for key in ("comment", "report_text"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ValidationError(f'"{key}" must be a string')
    with work() as db:
        result = fire(
            db,
            application().registry,
            SubjectKind.OCCURRENCE,
            occurrence_id,
            body["trigger"],
            _actor(),
            comment=body.get("comment"),
            report_text=body.get("report_text"),
        )
    return jsonify(
        id=result.subject_id,
        trigger=result.trigger,
        from_state=result.from_state,
        to_state=result.to_state,
        version=result.version,
    )


@bp.post("/occurrences/<int:occurrence_id>/evidence")
def post_evidence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Upload one evidence file (multipart field "file")."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError('send the file in the multipart field "file"')
    config = settings()
    with work() as db:
        item = evidence_service.attach(
            db,
            application().registry,
            config.evidence_dir,
            SubjectKind.OCCURRENCE,
            occurrence_id,
            _actor(),
            filename=upload.filename,
            data=upload.read(config.max_evidence_bytes + 1),
            max_bytes=config.max_evidence_bytes,
        )
        payload = {
            "id": item.id,
            "name": item.original_name,
            "size": item.size_bytes,
            "sha256": item.sha256,
            "content_type": item.content_type,
        }
    return jsonify(payload), 201


@bp.get("/occurrences/<int:occurrence_id>/history")
def get_history(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Every transition of an occurrence, oldest first."""
    with work(readonly=True) as db:
        entries = history(db, _actor(), SubjectKind.OCCURRENCE, occurrence_id)
    return jsonify(
        items=[
            {
                "at": _iso(e.at),
                "actor": e.actor_login,
                "trigger": e.trigger,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "comment": e.comment,
            }
            for e in entries
        ]
    )


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3.1 description of this API, with the lifecycle's triggers."""
    spec = copy.deepcopy(_spec())
    definition = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    triggers = list(dict.fromkeys(rule.trigger for rule in definition.rules))
    spec["components"]["schemas"]["Fire"]["properties"]["trigger"]["enum"] = triggers
    return jsonify(spec)


@functools.cache
def _spec() -> dict[str, Any]:
    """The description as written in `openapi.yaml`."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
