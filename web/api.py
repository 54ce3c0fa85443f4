"""JSON API under /api/v1: bearer tokens, the same engine services, errors as JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

import workflows
from engine import evidence as evidence_service
from engine.access import Actor
from engine.accounts import user_for_token
from engine.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from engine.pages import occurrence_detail, task_list
from engine.queries import history
from engine.workflow import SubjectKind, fire
from web.context import settings, today, work
from web.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: nothing for a forged form to ride on

STATUS = (
    (PermissionDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (InvalidTransitionError, 409, "invalid_transition"),
    (ConflictError, 409, "conflict"),
    (ValidationError, 422, "invalid"),
)


def _error(status: int, code: str, message: str, **extra: Any):  # type: ignore[no-untyped-def]
    return jsonify(error={"code": code, "message": message, **extra}), status


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):  # type: ignore[no-untyped-def]
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            extra = {}
            if isinstance(error, InvalidTransitionError):
                extra = {"state": error.state, "allowed": error.allowed}
            return _error(status, code, str(error), **extra)
    return _error(422, "invalid", str(error))


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
        user = user_for_token(db, token.strip())
        if user is None:
            return _error(401, "unauthorized", "the token is unknown or revoked")
        g.api_actor = Actor(user.id, user.login, user.role, user.organization_id)  # type: ignore[arg-type]
    return None


def _actor() -> Actor:
    return g.api_actor


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


@bp.get("/occurrences")
def list_occurrences():  # type: ignore[no-untyped-def]
    """Occurrences visible to the token's user, by due date, one page at a time."""
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = min(max(1, request.args.get("per_page", 50, type=int) or 50), 200)
    with work(readonly=True) as db:
        result, overdue = task_list(
            db,
            _actor(),
            today(),
            state=request.args.get("state"),
            school_id=request.args.get("school", type=int),
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
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("trigger"), str):
        raise ValidationError('send a JSON object with a "trigger"')
    with work() as db:
        result = fire(
            db,
            workflows.REGISTRY,
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
            workflows.REGISTRY,
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
    """The OpenAPI 3.1 description of this API."""
    return jsonify(OPENAPI)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "error",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for code in codes
    }


_ID = {"name": "occurrence_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_JSON = "application/json"

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Roadmap Engine API",
        "version": "1.0.0",
        "description": "Occurrences of school-support roadmaps: list, act, upload, read.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/occurrences": {
            "get": {
                "summary": "List occurrences visible to the token's user",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                    {"name": "school", "in": "query", "schema": {"type": "integer"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {_JSON: {"schema": _ref("OccurrencePage")}},
                    },
                    **_errors(401),
                },
            }
        },
        "/occurrences/{occurrence_id}": {
            "get": {
                "summary": "One occurrence",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "the occurrence",
                        "content": {_JSON: {"schema": _ref("Occurrence")}},
                    },
                    **_errors(401, 403, 404),
                },
            }
        },
        "/occurrences/{occurrence_id}/transitions": {
            "post": {
                "summary": "Fire a trigger",
                "parameters": [_ID],
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("Fire")}}},
                "responses": {
                    "200": {
                        "description": "done",
                        "content": {_JSON: {"schema": _ref("Transition")}},
                    },
                    **_errors(401, 403, 404, 409, 422),
                },
            }
        },
        "/occurrences/{occurrence_id}/evidence": {
            "post": {
                "summary": "Upload an evidence file",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "stored",
                        "content": {_JSON: {"schema": _ref("Evidence")}},
                    },
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        "/occurrences/{occurrence_id}/history": {
            "get": {
                "summary": "The transitions of an occurrence",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "oldest first",
                        "content": {
                            _JSON: {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _ref("HistoryEntry")}
                                    },
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 404),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "state": {"type": "string"},
                            "allowed": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                },
            },
            "OccurrenceRow": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "number": {"type": "string"},
                    "title": {"type": "string"},
                    "section": {"type": ["string", "null"]},
                    "school": {"type": "string"},
                    "due_on": {"type": ["string", "null"], "format": "date"},
                    "state": {"type": "string"},
                    "escalation_level": {"type": "integer"},
                    "overdue": {"type": "boolean"},
                },
            },
            "OccurrencePage": {
                "type": "object",
                "properties": {
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                    "overdue": {"type": "integer"},
                    "items": {"type": "array", "items": _ref("OccurrenceRow")},
                },
            },
            "Occurrence": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "version": {"type": "integer"},
                    "state": {"type": "string"},
                    "due_on": {"type": ["string", "null"], "format": "date"},
                    "school": {"type": "string"},
                    "roadmap": {"type": "string"},
                    "number": {"type": "string"},
                    "title": {"type": "string"},
                    "escalation_level": {"type": "integer"},
                    "evidence": {"type": "array", "items": _ref("Evidence")},
                },
            },
            "Fire": {
                "type": "object",
                "required": ["trigger"],
                "properties": {
                    "trigger": {
                        "type": "string",
                        "enum": ["start", "report", "approve", "return", "rework", "cancel"],
                    },
                    "comment": {"type": "string"},
                    "report_text": {"type": "string"},
                },
            },
            "Transition": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "trigger": {"type": "string"},
                    "from_state": {"type": "string"},
                    "to_state": {"type": "string"},
                    "version": {"type": "integer"},
                },
            },
            "Evidence": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "size": {"type": "integer"},
                    "sha256": {"type": "string"},
                    "content_type": {"type": "string"},
                },
            },
            "HistoryEntry": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "actor": {"type": "string"},
                    "trigger": {"type": "string"},
                    "from_state": {"type": "string"},
                    "to_state": {"type": "string"},
                    "comment": {"type": ["string", "null"]},
                },
            },
        },
    },
}
