"""Occurrences, the work people call tasks: «Мои задачи», the occurrence page, reports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import DomainError
from engine.lifecycle.definition import Phase, Rule, SubjectKind, WorkflowDefinition
from engine.readmodels.subjects import evidence_for_download, occurrence_detail
from engine.readmodels.worklist import sections_for, task_list
from engine.usecases.report import Upload, act_with_evidence
from engine.work import evidence as evidence_service
from web.context import actor, application, settings, today, work
from web.converters import query_id, query_page
from web.messages import russian

bp = Blueprint("occurrences", __name__)
PER_PAGE = 50
#: The action of the upload form that sends files without firing a trigger.
ATTACH_ONLY = "attach"


def page_number() -> int:
    """The ?page= of a list, at least 1."""
    return request.args.get("page", 1, type=query_page)


@bp.get("/tasks", endpoint="task_list")
@login_required
def task_list_view():  # type: ignore[no-untyped-def]
    """The signed-in user's occurrences by due date; overdue ones marked and counted."""
    state = request.args.get("state") or None
    section_id = request.args.get("section", type=query_id)
    overdue_only = request.args.get("overdue") == "1"
    with work(readonly=True) as db:
        page, overdue = task_list(
            application(),
            db,
            actor(),
            today(),
            state=state,
            section_id=section_id,
            overdue_only=overdue_only,
            page=page_number(),
            per_page=PER_PAGE,
        )
        sections = sections_for(db, actor())
    definition = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    return render_template(
        "tasks.html",
        page=page,
        overdue=overdue,
        sections=sections,
        states=definition.states,
        state=state,
        section_id=section_id,
        overdue_only=overdue_only,
        definition=definition,
    )


@bp.get("/occurrences/<int:occurrence_id>")
@login_required
def occurrence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """One occurrence: what, by when, its files, reports, comments, history, and actions."""
    with work(readonly=True) as db:
        detail = occurrence_detail(db, actor(), occurrence_id)
    definition = (
        application().registry.get(detail.workflow_name, detail.workflow_version).definition
    )
    actions, can_attach = available_actions(definition, detail.state, detail.assignee_id)
    overdue = (
        detail.due_on is not None
        and detail.due_on < today()
        and not detail.arrived_as_history
        and definition.phase_of(detail.state) is Phase.OPEN
    )
    return render_template(
        "occurrence.html",
        d=detail,
        definition=definition,
        actions=actions,
        can_attach=can_attach,
        reports_here=any(definition.takes_evidence(rule) for rule in actions),
        overdue=overdue,
        today=today(),
    )


@bp.post("/occurrences/<int:occurrence_id>/<trigger>")
@login_required
def act(occurrence_id: int, trigger: str):  # type: ignore[no-untyped-def]
    """Fire a trigger; files and a written report travel with «Отправить отчёт»."""
    return act_on(
        SubjectKind.OCCURRENCE,
        occurrence_id,
        trigger,
        url_for("occurrences.occurrence", occurrence_id=occurrence_id),
    )


def available_actions(
    definition: WorkflowDefinition, state: str, owner_id: int
) -> tuple[list[Rule], bool]:
    """The rules the signed-in user's role may fire from `state`, and whether they may attach
    files (the owner's own people, while a rule from `state` checks for evidence)."""
    actions = [
        rule
        for trigger in definition.triggers_from(state)
        if (rule := definition.rule(trigger, state)) and current_user.role in rule.roles
    ]
    attach = definition.accepts_evidence(state) and current_user.organization_id == owner_id
    return actions, attach


def act_on(kind: SubjectKind, subject_id: int, trigger: str, back: str):  # type: ignore[no-untyped-def]
    """Attach the uploaded files, then fire `trigger` (ATTACH_ONLY: files only); flash it."""
    limit = settings().max_evidence_bytes + 1
    files = [
        Upload(f.filename or "file", f.read(limit))
        for f in request.files.getlist("files")
        if f and f.filename
    ]
    try:
        with work() as db:
            act_with_evidence(
                application(),
                db,
                actor(),
                kind,
                subject_id,
                None if trigger == ATTACH_ONLY else trigger,
                files,
                comment=request.form.get("comment"),
                report_text=request.form.get("report_text"),
            )
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Готово."), "success")
    return redirect(back, code=303)


@bp.get("/evidence/<int:evidence_id>")
@login_required
def download(evidence_id: int):  # type: ignore[no-untyped-def]
    """A file, to those who may see its occurrence; everyone else gets 404."""
    with work(readonly=True) as db:
        item = evidence_for_download(db, actor(), evidence_id)
    path = evidence_service.storage_path(settings().evidence_dir, item.stored_name)
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype=item.content_type, as_attachment=True, download_name=item.original_name
    )
