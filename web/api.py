"""JSON API under /api/v1: bearer tokens, the same engine services, errors as JSON.

The shapes are `web.apischema`'s models: they validate each request and response, and the
OpenAPI document at /api/v1/openapi.json is made from them."""

from __future__ import annotations

import copy
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from engine.accounts.access import REGION_WIDE, Actor, Power, require_power
from engine.accounts.users import note_token_use, user_for_token
from engine.directory.people import add_person
from engine.directory.schools import apply_directory, plan_directory, read_directory
from engine.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
)
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Role, User, utcnow
from engine.readmodels.directory import people_page, person_card, schools_page
from engine.readmodels.roadmaps import roadmap_indicators
from engine.readmodels.rounds import (
    MARK_RULE,
    plan_against_actual,
    roadmap_rounds,
    round_detail,
    round_tasks,
    submission_detail,
)
from engine.readmodels.subjects import history, occurrence_detail
from engine.readmodels.worklist import task_list
from engine.usecases.people import take_out_as
from engine.usecases.roadmap_edits import check_can_see
from engine.work import evidence as evidence_service
from engine.work.rounds import QuestionDraft, open_round, save_entries
from web import apischema as shapes
from web.apischema import SPEC, answers
from web.context import application, settings, today, work
from web.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: nothing for a forged form to ride on

#: pydantic's error types that mean "too long": the engine's reason for them.
_TOO_LONG = {"string_too_long", "too_long"}


def error_body(status: int, code: str, message: str, **extra: Any):  # type: ignore[no-untyped-def]
    """The one error shape of the API (`apischema.Error`)."""
    return jsonify(error={"code": code, "message": message, **extra}), status


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):  # type: ignore[no-untyped-def]
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidTransitionError):
        extra = {"state": error.state, "allowed": error.allowed}
    if error.reason is not None:
        extra["reason"] = error.reason
    return error_body(error.status, error.code, str(error), **extra)


@bp.errorhandler(RecursionError)
def too_deep(error: RecursionError):  # type: ignore[no-untyped-def]
    return error_body(422, "invalid", "the JSON body is nested too deeply")


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    return error_body(error.code or 500, "http", error.description or error.name)


def _validation_failed(req, resp, error, instance, adapter) -> None:  # type: ignore[no-untyped-def]
    """spectree's hook: a request that fails its model gets the API's error shape."""
    if error is None:
        return
    fields = [
        {"field": ".".join(str(part) for part in item["loc"]), "problem": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
    extra = {"reason": "text_too_long"} if {i["type"] for i in error.errors()} & _TOO_LONG else {}
    named = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    body = {"code": "invalid", "message": f"invalid request: {named}", "fields": fields, **extra}
    resp.set_data(current_app.json.dumps({"error": body}))
    resp.mimetype = "application/json"


SPEC.before = _validation_failed


@bp.before_request
def authenticate():  # type: ignore[no-untyped-def]
    """Every endpoint but the OpenAPI document needs `Authorization: Bearer <token>`."""
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_body(401, "unauthorized", "send Authorization: Bearer <token>")
    with work(readonly=True) as db:
        found = user_for_token(db, token.strip())
        if found is None:
            return error_body(401, "unauthorized", "the token is unknown, expired or revoked")
        user = found.user
        g.api_actor = Actor(user.id, user.login, user.role, user.organization_id)  # type: ignore[arg-type]
    if found.stale(utcnow()):  # written at most hourly: the API stays a read
        with work() as db:
            note_token_use(db, found.token_id)
    if request.method == "POST" and request.is_json:
        if "\\u0000" in request.get_data(as_text=True):
            raise ValidationError("the JSON body holds a NUL character")
        if not isinstance(request.get_json(silent=True), dict):
            raise ValidationError("send a JSON object")
    return None


def _actor() -> Actor:
    return g.api_actor


def _activity_definition():  # type: ignore[no-untyped-def]
    return application().registry.for_subject(SubjectKind.OCCURRENCE).definition


@bp.get("/occurrences")
@SPEC.validate(
    query=shapes.OccurrenceQuery, resp=answers(HTTP_200=shapes.OccurrencePage, errors=())
)
def list_occurrences():  # type: ignore[no-untyped-def]
    """Occurrences visible to the token's user, by due date, one page at a time."""
    query: shapes.OccurrenceQuery = request.context.query  # type: ignore[attr-defined]
    if query.state is not None and _activity_definition().phase_of(query.state) is None:
        raise ValidationError(f"unknown state {query.state!r}")
    with work(readonly=True) as db:
        result, overdue = task_list(
            application(),
            db,
            _actor(),
            today(),
            state=query.state,
            school_id=query.school,
            page=query.page,
            per_page=query.per_page,
        )
    rows = [shapes.OccurrenceRow.model_validate(row, from_attributes=True) for row in result.rows]
    return shapes.OccurrencePage(
        page=query.page, per_page=query.per_page, total=result.total, overdue=overdue, items=rows
    )


@bp.get("/occurrences/<int:occurrence_id>")
@SPEC.validate(resp=answers(HTTP_200=shapes.Occurrence, errors=(403, 404)))
def get_occurrence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """One occurrence with its evidence list."""
    with work(readonly=True) as db:
        d = occurrence_detail(db, _actor(), occurrence_id)
    return shapes.Occurrence(
        id=d.id,
        version=d.version,
        state=d.state,
        due_on=d.due_on,
        school=d.assignee,
        roadmap=d.roadmap,
        number=d.number,
        title=d.title,
        escalation_level=d.escalation_level,
        evidence=[
            shapes.Evidence(id=e.id, name=e.name, size=e.size_bytes, sha256=e.sha256)
            for e in d.evidence
        ],
    )


@bp.post("/occurrences/<int:occurrence_id>/transitions")
@SPEC.validate(
    json=shapes.Fire, resp=answers(HTTP_200=shapes.Transition, errors=(403, 404, 409, 415))
)
def post_transition(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Fire a trigger on an occurrence.

    409: the state does not allow the trigger. 422: the request, or the rule's check, failed
    (a report needs a file or a written report; a return needs a comment)."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.Fire = request.context.json  # type: ignore[attr-defined]
    return _fired(
        SubjectKind.OCCURRENCE, occurrence_id, body.trigger, body.comment, body.report_text
    )


def _fired(
    kind: SubjectKind,
    subject_id: int,
    trigger: str,
    comment: str | None,
    report_text: str | None = None,
) -> shapes.Transition:
    """Fire `trigger` on one subject as the token's user; what the transition did."""
    with work() as db:
        result = fire(
            db,
            application().registry,
            kind,
            subject_id,
            trigger,
            _actor(),
            comment=comment,
            report_text=report_text,
        )
    return shapes.Transition(
        id=result.subject_id,
        trigger=result.trigger,
        from_state=result.from_state,
        to_state=result.to_state,
        version=result.version,
    )


@bp.post("/occurrences/<int:occurrence_id>/evidence")
@SPEC.validate(
    form=shapes.Upload, resp=answers(HTTP_201=shapes.Evidence, errors=(403, 404, 409, 413, 415))
)
def post_evidence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Upload one evidence file (multipart field "file").

    413: over the size limit. 422: an empty file, a type other than PDF, DOCX, XLSX, JPG or
    PNG (checked by content), or an occurrence that takes no files in its state."""
    upload = request.files.get("file")
    if upload is None:
        return error_body(415, "unsupported", 'send the file as multipart/form-data field "file"')
    config = settings()
    with work() as db:
        item = evidence_service.attach(
            db,
            application().registry,
            config.evidence_dir,
            SubjectKind.OCCURRENCE,
            occurrence_id,
            _actor(),
            filename=upload.filename or "file",
            data=upload.read(config.max_evidence_bytes + 1),
            max_bytes=config.max_evidence_bytes,
        )
        payload = shapes.Evidence(
            id=item.id,
            name=item.original_name,
            size=item.size_bytes,
            sha256=item.sha256,
            content_type=item.content_type,
        )
    return payload, 201


@bp.get("/occurrences/<int:occurrence_id>/history")
@SPEC.validate(resp=answers(HTTP_200=shapes.History, errors=(403, 404)))
def get_history(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Every transition of an occurrence, oldest first."""
    with work(readonly=True) as db:
        entries = history(db, _actor(), SubjectKind.OCCURRENCE, occurrence_id)
    return shapes.History(
        items=[
            shapes.HistoryEntry(
                at=e.at,
                actor=e.actor_login,
                trigger=e.trigger,
                from_state=e.from_state,
                to_state=e.to_state,
                comment=e.comment,
            )
            for e in entries
        ]
    )


# --- the directory and its people ----------------------------------------------------------


def _coordinator_or_admin() -> Actor:
    """The directory is read by coordinators (their territory) and the admin (everything)."""
    who = _actor()
    if who.role not in (Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR, Role.ADMIN):
        raise PermissionDeniedError(f"role '{who.role}' does not read the directory")
    return who


@bp.get("/roadmaps/<int:roadmap_id>/indicators")
@SPEC.validate(resp=answers(HTTP_200=shapes.IndicatorList, errors=(403, 404)))
def list_indicators(roadmap_id: int):  # type: ignore[no-untyped-def]
    """The target indicators of a roadmap in the token's territory, in the document's order."""
    with work(readonly=True) as db:
        check_can_see(db, _actor(), roadmap_id)
        rows = roadmap_indicators(db, roadmap_id)
    return shapes.IndicatorList(
        roadmap_id=roadmap_id,
        items=[
            shapes.Indicator(
                id=row.id,
                number=row.number,
                title=row.title,
                text=row.text,
                target=_target(row),
                baseline=row.baseline,
                due=row.due,
                due_text=row.due_text,
                scope=row.scope,
                activity_id=row.activity_id,
            )
            for row in rows
        ],
    )


@bp.get("/schools")
@SPEC.validate(query=shapes.SchoolQuery, resp=answers(HTTP_200=shapes.SchoolPage, errors=(403,)))
def list_schools():  # type: ignore[no-untyped-def]
    """The schools of the token's territory, by municipality and name, one page at a time."""
    query: shapes.SchoolQuery = request.context.query  # type: ignore[attr-defined]
    who = _coordinator_or_admin()
    with work(readonly=True) as db:
        page = schools_page(
            db,
            who,
            search=query.q,
            municipality_id=query.municipality,
            programme=query.programme,
            page=query.page,
            per_page=query.per_page,
        )
    return shapes.SchoolPage(
        page=query.page,
        per_page=query.per_page,
        total=page.total,
        items=[shapes.School.model_validate(r, from_attributes=True) for r in page.rows],
    )


def _person(row: Any, schools: list[int] | None = None) -> shapes.Person:
    return shapes.Person(
        id=row.id,
        login=row.login,
        full_name=row.full_name,
        email=row.email,
        role=row.role,
        organization=row.organization,
        active=row.is_active,
        schools=schools,
    )


@bp.get("/people")
@SPEC.validate(query=shapes.PeopleQuery, resp=answers(HTTP_200=shapes.PeoplePage, errors=(403,)))
def list_people():  # type: ignore[no-untyped-def]
    """People of the token's territory, by name, one page at a time."""
    query: shapes.PeopleQuery = request.context.query  # type: ignore[attr-defined]
    who = _coordinator_or_admin()
    offset = (query.page - 1) * query.per_page
    with work(readonly=True) as db:
        total, rows = people_page(
            db, query.role, query.q, query.per_page, offset, who, query.municipality
        )
    return shapes.PeoplePage(
        page=query.page, per_page=query.per_page, total=total, items=[_person(r) for r in rows]
    )


@bp.get("/people/<int:user_id>")
@SPEC.validate(resp=answers(HTTP_200=shapes.Person, errors=(403, 404)))
def get_person(user_id: int):  # type: ignore[no-untyped-def]
    """One person, with a curator's schools."""
    who = _coordinator_or_admin()
    with work(readonly=True) as db:
        card = person_card(db, who, user_id)
    return _person(card.person, [school_id for school_id, _ in card.schools])


@bp.post("/people")
@SPEC.validate(json=shapes.NewPerson, resp=answers(HTTP_201=shapes.Person, errors=(403, 409, 415)))
def post_person():  # type: ignore[no-untyped-def]
    """Add a person and mail them an invitation (the admin). 409: the e-mail has an account."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.NewPerson = request.context.json  # type: ignore[attr-defined]
    who = _actor()
    require_power(who, Power.ADMINISTER, "people")
    cells = body.model_dump()
    with work() as db:
        if db.execute(select(User.id).where(User.email == body.email.strip().lower())).first():
            raise ConflictError(f"{body.email} already has an account")
        user = add_person(db, cells, who.login, settings().public_url)
        card = person_card(db, who, user.id)  # type: ignore[arg-type]
    return _person(card.person, [school_id for school_id, _ in card.schools]), 201


@bp.post("/people/<int:user_id>/deactivate")
@SPEC.validate(
    json=shapes.Deactivation, resp=answers(HTTP_200=shapes.Person, errors=(403, 404, 409, 415))
)
def post_deactivation(user_id: int):  # type: ignore[no-untyped-def]
    """Take a person out at once (the admin, or a coordinator for the people of their
    territory below them); the schools they curate go to `handover` (per school) or
    `handover_to` (all). 409: already deactivated; 422: a school with nobody to take it."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.Deactivation = request.context.json  # type: ignore[attr-defined]
    who = _actor()
    require_power(who, Power.MANAGE, "people")
    with work() as db:
        person = person_card(db, who, user_id).person  # in scope, or 404
        if not person.is_active:
            raise ConflictError(f"person {user_id} is already deactivated")
        take_out_as(db, who, user_id, body.handover or body.handover_to)
    return _person(replace(person, is_active=False), [])


@bp.post("/directory")
@SPEC.validate(
    query=shapes.DirectoryQuery,
    form=shapes.Upload,
    resp=answers(HTTP_200=shapes.DirectoryResult, errors=(403, 413, 415)),
)
def post_directory():  # type: ignore[no-untyped-def]
    """Load the directory from an XLSX or CSV (multipart field "file"; the admin). 422: a bad
    row, with file, row and column in the message; nothing is written then."""
    who = _actor()
    require_power(who, Power.ADMINISTER, "the directory")
    query: shapes.DirectoryQuery = request.context.query  # type: ignore[attr-defined]
    upload = request.files.get("file")
    if upload is None:
        return error_body(415, "unsupported", 'send the file as multipart/form-data field "file"')
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError("send an .xlsx or .csv file")
    folder = settings().upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{suffix}"
    upload.save(path)
    try:
        name = Path(upload.filename or path.name).name
        rows = read_directory(path, name)
        with work(readonly=query.dry_run) as db:
            plan = plan_directory(db, rows, name)
            if not query.dry_run:
                apply_directory(db, plan, who.login)
    finally:
        path.unlink(missing_ok=True)
    return shapes.DirectoryResult(dry_run=query.dry_run, **plan.to_dict())


# --- monitoring rounds ---------------------------------------------------------------------


def _target(row: Any) -> shapes.Target | None:
    if row.target_value is None or not row.direction:
        return None
    return shapes.Target(value=row.target_value, unit=row.unit, direction=row.direction)


def _asked(row: Any) -> shapes.AskedIndicator:
    return shapes.AskedIndicator(
        id=row.id, number=row.number, title=row.title, target=_target(row), baseline=row.baseline
    )


@bp.get("/roadmaps/<int:roadmap_id>/rounds")
@SPEC.validate(resp=answers(HTTP_200=shapes.RoundList, errors=(403, 404)))
def list_rounds(roadmap_id: int):  # type: ignore[no-untyped-def]
    """The monitoring rounds of a roadmap in the token's territory, newest first, with their
    submissions counted among those the token's user sees."""
    with work(readonly=True) as db:
        check_can_see(db, _actor(), roadmap_id)
        rows = roadmap_rounds(application(), db, _actor(), roadmap_id)
    return shapes.RoundList(
        roadmap_id=roadmap_id,
        items=[shapes.RoundRow.model_validate(row, from_attributes=True) for row in rows],
    )


@bp.post("/roadmaps/<int:roadmap_id>/rounds")
@SPEC.validate(json=shapes.RoundIn, resp=answers(HTTP_201=shapes.Round, errors=(403, 404, 415)))
def post_round(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Open a round (coordinators of the roadmap's territory): each participant gets a
    submission due on its closing day. 422: a window that closes before it opens, an
    indicator of another roadmap, a choice question without 2–12 choices, nothing asked."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.RoundIn = request.context.json  # type: ignore[attr-defined]
    app = application()
    with work() as db:
        monitoring = open_round(
            db,
            app.registry,
            _actor(),
            roadmap_id,
            title=body.title,
            opens_on=body.opens_on,
            closes_on=body.closes_on,
            scope=body.scope.value,
            indicator_ids=body.indicator_ids,
            questions=[
                QuestionDraft(q.text, q.kind.value, tuple(q.choices)) for q in body.questions
            ],
            now=app.clock(),
        )
        round_id = monitoring.id
    return _round(round_id, 1, 50), 201


@bp.get("/rounds/<int:round_id>")
@SPEC.validate(query=shapes.RoundQuery, resp=answers(HTTP_200=shapes.Round, errors=(403, 404)))
def get_round(round_id: int):  # type: ignore[no-untyped-def]
    """A round: its indicators and questions, and a page of the participants the token's user
    sees, with the values each has entered."""
    query: shapes.RoundQuery = request.context.query  # type: ignore[attr-defined]
    return _round(round_id, query.page, query.per_page)


def _round(round_id: int, page: int, per_page: int) -> shapes.Round:
    with work(readonly=True) as db:
        d = round_detail(application(), db, _actor(), round_id, page=page, per_page=per_page)
    return shapes.Round(
        id=d.id,
        roadmap_id=d.roadmap_id,
        title=d.title,
        opens_on=d.opens_on,
        closes_on=d.closes_on,
        scope=d.scope,
        indicators=[_asked(i) for i in d.indicators],
        questions=[shapes.Question.model_validate(q, from_attributes=True) for q in d.questions],
        page=page,
        per_page=per_page,
        total=d.participants.total,
        participants=[
            shapes.Participant(
                submission_id=p.submission_id,
                organization_id=p.assignee_id,
                name=p.name,
                state=p.state,
                escalation_level=p.escalation_level,
                values=[shapes.Value(indicator_id=k, value=v) for k, v in p.values.items()],
            )
            for p in d.participants.rows
        ],
    )


@bp.get("/submissions")
@SPEC.validate(resp=answers(HTTP_200=shapes.TaskList, errors=()))
def list_submissions():  # type: ignore[no-untyped-def]
    """The open submissions of the token's own school or municipality, soonest due first."""
    with work(readonly=True) as db:
        tasks = round_tasks(application(), db, _actor(), limit=200)
    return shapes.TaskList(
        items=[shapes.Task.model_validate(t, from_attributes=True) for t in tasks]
    )


@bp.get("/submissions/<int:submission_id>")
@SPEC.validate(resp=answers(HTTP_200=shapes.Submission, errors=(403, 404)))
def get_submission(submission_id: int):  # type: ignore[no-untyped-def]
    """One submission: its values, answers and files."""
    return _submission(submission_id)


def _submission(submission_id: int) -> shapes.Submission:
    with work(readonly=True) as db:
        d = submission_detail(application(), db, _actor(), submission_id)
    return shapes.Submission(
        id=d.id,
        version=d.version,
        state=d.state,
        round_id=d.round_id,
        organization=d.assignee,
        due_on=d.due_on,
        escalation_level=d.escalation_level,
        values=[
            shapes.Entry(indicator_id=e.indicator.id, value=e.value, comment=e.comment)
            for e in d.entries
        ],
        answers=[shapes.Answered(question_id=a.question.id, answer=a.answer) for a in d.answers],
        evidence=[
            shapes.Evidence(id=e.id, name=e.name, size=e.size_bytes, sha256=e.sha256)
            for e in d.evidence
        ],
    )


def _typed(answer: Any) -> list[str]:
    """An answer as the form would send it."""
    if answer is None:
        return []
    if isinstance(answer, list):
        return [str(a) for a in answer]
    return [repr(answer) if isinstance(answer, float) else str(answer)]


@bp.put("/submissions/<int:submission_id>/values")
@SPEC.validate(
    json=shapes.EntriesIn, resp=answers(HTTP_200=shapes.Submission, errors=(403, 404, 409, 415))
)
def put_values(submission_id: int):  # type: ignore[no-untyped-def]
    """Store values and answers while the participant works on the submission.

    409: it was sent for review or accepted. 422: an indicator or question the round does not
    ask, an answer that is not one of its choices."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.EntriesIn = request.context.json  # type: ignore[attr-defined]
    app = application()
    with work() as db:
        save_entries(
            db,
            app.registry,
            _actor(),
            submission_id,
            values={
                v.indicator_id: ("" if v.value is None else repr(v.value), v.comment or "")
                for v in body.values
            },
            answers={a.question_id: _typed(a.answer) for a in body.answers},
            now=app.clock(),
        )
    return _submission(submission_id)


@bp.post("/submissions/<int:submission_id>/transitions")
@SPEC.validate(
    json=shapes.SubmissionFire,
    resp=answers(HTTP_200=shapes.Transition, errors=(403, 404, 409, 415)),
)
def post_submission_transition(submission_id: int):  # type: ignore[no-untyped-def]
    """Submit, accept or return a submission.

    409: the state does not allow the trigger. 422: a value or answer is missing, or a return
    has no comment."""
    if not request.is_json:
        return error_body(415, "unsupported", "send the body as application/json")
    body: shapes.SubmissionFire = request.context.json  # type: ignore[attr-defined]
    return _fired(SubjectKind.SUBMISSION, submission_id, body.trigger, body.comment)


@bp.get("/roadmaps/<int:roadmap_id>/plan")
@SPEC.validate(resp=answers(HTTP_200=shapes.PlanAgainstActual, errors=(403, 404)))
def get_plan(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Each indicator's target against the mean of the accepted values of each round, among
    the participants the token's user sees, and its mark by the rule stated in `rule`."""
    with work(readonly=True) as db:
        who = _actor()
        regional = who.role in REGION_WIDE
        plan = plan_against_actual(application(), db, who, roadmap_id, by_municipality=regional)
    return shapes.PlanAgainstActual(
        roadmap_id=plan.roadmap_id,
        title=plan.title,
        rule=MARK_RULE,
        tracks=[
            shapes.Track(
                indicator=_asked(t.indicator),
                rounds=[
                    shapes.RoundValue(
                        round_id=r.round_id,
                        title=r.round_title,
                        closes_on=r.closes_on,
                        value=r.value,
                        count=r.count,
                    )
                    for r in t.rounds
                ],
                places=[shapes.Place(name=name, values=values) for name, values in t.places],
                goal=t.goal,
                mark=t.mark,
            )
            for t in plan.tracks
        ],
    )


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3.1 description of this API, made from its models."""
    cached = current_app.extensions.get("roadmap_openapi")
    if cached is None:
        cached = current_app.extensions["roadmap_openapi"] = _document()
    return jsonify(cached)


def _document() -> dict[str, Any]:
    """spectree's document, with what only the registry knows: the triggers and states."""
    spec = copy.deepcopy(SPEC.spec)  # made once per process: every app has these routes
    prefix = bp.url_prefix or ""
    spec["servers"] = [{"url": prefix}]
    spec["paths"] = {path.removeprefix(prefix): item for path, item in spec["paths"].items()}
    definition = _activity_definition()
    states = [state.name for state in definition.states]
    schemas = spec["components"]["schemas"]
    schemas["Fire"]["properties"]["trigger"]["enum"] = list(
        dict.fromkeys(rule.trigger for rule in definition.rules)
    )
    monitoring = application().registry.for_subject(SubjectKind.SUBMISSION).definition
    schemas["SubmissionFire"]["properties"]["trigger"]["enum"] = list(
        dict.fromkeys(rule.trigger for rule in monitoring.rules)
    )
    for operation in (op for path in spec["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":  # every path value is a database id
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": shapes.MAX_ID}
            elif parameter["name"] == "state":
                parameter["schema"] = {"type": "string", "enum": states}
            else:  # a query value is absent or present; it is never null
                options = parameter["schema"].pop("anyOf", None)
                if options:
                    parameter["schema"].update(next(o for o in options if o != {"type": "null"}))
                if parameter["schema"].get("default", 0) is None:
                    del parameter["schema"]["default"]
    return spec
