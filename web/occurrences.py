"""Occurrences, the work people call tasks: «Мои задачи», the occurrence page, reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

from engine.deadlines.calendar import WorkCalendar
from engine.errors import DomainError
from engine.lifecycle.definition import Party, Phase, Rule, SubjectKind, WorkflowDefinition
from engine.lifecycle.fire import TransitionResult, load_subject, permitted_rules
from engine.models import Organization
from engine.readmodels.rounds import round_tasks
from engine.readmodels.subjects import evidence_for_download, occurrence_detail
from engine.readmodels.worklist import WorkFilter, sections_for, task_list
from engine.usecases.report import Upload, act_with_evidence
from engine.usecases.review import mark_opened
from engine.work import evidence as evidence_service
from web.context import actor, application, settings, today, work
from web.converters import query_date, query_id, query_page
from web.desk import next_url, queue_url, wants_next
from web.messages import russian

bp = Blueprint("occurrences", __name__)
PER_PAGE = 50
#: The action of the upload form that sends files without firing a trigger.
ATTACH_ONLY = "attach"
#: The forms' text fields, kept across an error, and how much of each.
TYPED_FIELDS = ("report_text", "comment")
KEPT_TEXT = 20_000
#: Files the page shows in place (the browser's own viewer), besides offering the download.
PREVIEWED = frozenset({"application/pdf", "image/png", "image/jpeg"})
#: A file shown in place may only be framed by this site's pages and runs nothing of its own.
VIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


def page_number() -> int:
    """The ?page= of a list, at least 1."""
    return request.args.get("page", 1, type=query_page)


def work_filter(args: Any) -> WorkFilter:
    """The roadmap, period, municipality and phase of a list or the dashboard, from its
    query string; anything unreadable is left out."""
    phase = args.get("phase")
    return WorkFilter(
        roadmap_id=args.get("roadmap", type=query_id),
        due_from=args.get("from", type=query_date),
        due_to=args.get("to", type=query_date),
        municipality_id=args.get("municipality", type=query_id),
        phase=next((p for p in Phase if p.key == phase), None),
        active_only=args.get("active") == "1",
    )


@bp.get("/tasks", endpoint="task_list")
@login_required
def task_list_view():  # type: ignore[no-untyped-def]
    """The signed-in user's occurrences by due date; overdue ones marked and counted."""
    state = request.args.get("state") or None
    section_id = request.args.get("section", type=query_id)
    overdue_only = request.args.get("overdue") == "1"
    narrow = work_filter(request.args)
    with work(readonly=True) as db:
        page, overdue = task_list(
            application(),
            db,
            actor(),
            today(),
            state=state,
            section_id=section_id,
            overdue_only=overdue_only,
            narrow=narrow,
            page=page_number(),
            per_page=PER_PAGE,
        )
        sections = sections_for(db, actor())
        rounds = round_tasks(application(), db, actor())
    definition = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    monitoring = application().registry.for_subject(SubjectKind.SUBMISSION).definition
    return render_template(
        "tasks.html",
        rounds=rounds,
        monitoring=monitoring,
        today=today(),
        page=page,
        overdue=overdue,
        sections=sections,
        states=definition.states,
        state=state,
        section_id=section_id,
        overdue_only=overdue_only,
        definition=definition,
        narrow=narrow,
        narrowed=narrow != WorkFilter(),
    )


@bp.get("/occurrences/<int:occurrence_id>")
@login_required
def occurrence(occurrence_id: int):  # type: ignore[no-untyped-def]
    """One occurrence: what, by when, its files, reports, comments, history, and actions."""
    return occurrence_page(occurrence_id, {})


def occurrence_page(occurrence_id: int, typed: dict[str, str]) -> str:
    """The occurrence page, its forms holding `typed` text (after an error)."""
    with work(readonly=True) as db:
        detail = occurrence_detail(db, actor(), occurrence_id)
        definition = (
            application().registry.get(detail.workflow_name, detail.workflow_version).definition
        )
        actions, can_attach = available_actions(
            db,
            definition,
            (SubjectKind.OCCURRENCE, occurrence_id),
            detail.state,
            detail.assignee_id,
        )
    note_opened(SubjectKind.OCCURRENCE, occurrence_id, actions)
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
        typed=typed,
        rework=rework_offer(definition, detail.state, actions),
        returned_with=returned_with(definition, detail.state, detail.history),
        previews=[f for f in detail.evidence if f.content_type in PREVIEWED],
        what_next_here=waiting_for(definition, detail),
        desk_queue=queue_url(),
    )


def waiting_for(definition: WorkflowDefinition, detail: Any) -> str:
    """What the item waits for, for someone with nothing to do on it."""
    phase = definition.phase_of(detail.state)
    if phase is Phase.UNDER_REVIEW:
        return _("Отчёт у куратора на проверке; о решении придёт уведомление.")
    if phase is Phase.DONE:
        return _("Работа одобрена; больше ничего не нужно.")
    if phase is Phase.CANCELLED:
        return _("Мероприятие отменено; делать по нему ничего не нужно.")
    if detail.due_on is None:
        return _("Ждём отчёта школы; срок не назначен.")
    return _("Ждём отчёта школы; срок — %(day)s.", day=detail.due_on.strftime("%d.%m.%Y"))


@bp.post("/occurrences/<int:occurrence_id>/<trigger>")
@login_required
def act(occurrence_id: int, trigger: str):  # type: ignore[no-untyped-def]
    """Fire a trigger; files and a written report travel with «Отправить отчёт»."""
    return act_on(
        SubjectKind.OCCURRENCE,
        occurrence_id,
        trigger,
        url_for("occurrences.occurrence", occurrence_id=occurrence_id),
        lambda typed: occurrence_page(occurrence_id, typed),
    )


def note_opened(kind: SubjectKind, subject_id: int, actions: list[Rule]) -> None:
    """A reviewer who can decide on the item has opened it (the queue's «не открыто»)."""
    if any(rule.party == Party.REVIEWER for rule in actions):
        with work() as db:
            mark_opened(db, actor(), kind, subject_id)


def rework_offer(definition: WorkflowDefinition, state: str, actions: list[Rule]) -> Any:
    """The (take back, send) rules of «Исправить и отправить», if the user may fire both."""
    path = definition.rework_path(state)
    if path and all(current_user.role in rule.roles for rule in path) and path[0] in actions:
        return path
    return None


def returned_with(definition: WorkflowDefinition, state: str, entries: list[Any]) -> Any:
    """The reviewer's comment that returned the item into `state`, while it is there."""
    if definition.rework_path(state) is None and not any(
        rule.dest == state and rule.party == Party.REVIEWER for rule in definition.rules
    ):
        return None
    return next((h for h in reversed(entries) if h.to_state == state and h.comment), None)


def available_actions(
    db: Any,
    definition: WorkflowDefinition,
    subject: tuple[SubjectKind, int],
    state: str,
    owner_id: int,
) -> tuple[list[Rule], bool]:
    """The rules the signed-in user may fire on `subject` now, by the transition's own checks,
    and whether they may attach files (the owner's own people, while a rule from `state`
    checks for evidence)."""
    actions = permitted_rules(db, application().registry, *subject, actor())
    attach = definition.accepts_evidence(state) and current_user.organization_id == owner_id
    return actions, attach


def uploaded_files() -> list[Upload]:
    """The form's files, each read up to one byte past the limit (so that it can be named
    too large)."""
    limit = settings().max_evidence_bytes + 1
    files = []
    for upload in request.files.getlist("files"):
        if upload and upload.filename:
            files.append(Upload(upload.filename, upload.read(limit)))
        upload.close()  # a large one spooled to a temporary file: closed now, not at GC
    return files


def act_on(  # type: ignore[no-untyped-def]
    kind: SubjectKind,
    subject_id: int,
    trigger: str,
    back: str,
    again: Callable[[dict[str, str]], Any],
):
    """Attach the uploaded files, then fire `trigger` (ATTACH_ONLY: files only); say what
    happens next. On an error the page comes `again` (422) with the typed text in its form;
    «… и к следующей» goes on to the next item of the curator's queue."""
    files = uploaded_files()
    app = application()
    try:
        with work() as db:
            result = act_with_evidence(
                app,
                db,
                actor(),
                kind,
                subject_id,
                None if trigger == ATTACH_ONLY else trigger,
                files,
                comment=request.form.get("comment"),
                report_text=request.form.get("report_text"),
                first=request.form.get("first") or None,
            )
            message = what_next(db, kind, result, len(files))
    except DomainError as error:
        flash(russian(error), "error")
        typed = {name: request.form.get(name, "")[:KEPT_TEXT] for name in TYPED_FIELDS}
        if files and any(typed.values()):
            flash(_("Текст сохранён в форме; файлы выберите ещё раз."), "info")
        return again(typed), 422
    flash(message, "success")
    if result is not None and wants_next():
        return redirect(next_url(kind, subject_id), code=303)
    return redirect(back, code=303)


def what_next(db: Session, kind: SubjectKind, result: TransitionResult | None, files: int) -> str:
    """What the action did and what happens next, and by when."""
    if result is None:
        return _("Файлы загружены: %(n)s.", n=files)
    ref = load_subject(db, kind, result.subject_id)
    definition = application().registry.get(ref.workflow_name, ref.workflow_version).definition
    phase = definition.phase_of(result.to_state)
    rule = definition.rule(result.trigger, result.from_state)
    if phase is Phase.UNDER_REVIEW:
        policy = application().policies.for_municipality(
            db, definition.name, db.get(Organization, ref.owner_id).parent_id
        )
        deadline = WorkCalendar.load(db).add_working_days(today(), policy.review_days)
        return _(
            "Отправлено на проверку. Решение — до %(day)s (%(n)s раб. дн.); "
            "о нём придёт уведомление.",
            day=deadline.strftime("%d.%m.%Y"),
            n=policy.review_days,
        )
    if phase is Phase.DONE:
        return _("Одобрено. Школа получит уведомление.")
    if phase is Phase.CANCELLED:
        return _("Отменено. Напоминаний и эскалаций по нему больше не будет.")
    if rule is not None and rule.party == Party.REVIEWER:
        return _("Возвращено на доработку с вашим комментарием. Школа получит уведомление.")
    return _(
        "Готово: «%(state)s». Когда будет сделано, приложите файлы и отправьте отчёт.",
        state=_(definition.state_label(result.to_state)),
    )


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


@bp.get("/evidence/<int:evidence_id>/view")
@login_required
def view(evidence_id: int):  # type: ignore[no-untyped-def]
    """A PDF or an image, inline, for the page's viewer; other files only download."""
    with work(readonly=True) as db:
        item = evidence_for_download(db, actor(), evidence_id)
    path = evidence_service.storage_path(settings().evidence_dir, item.stored_name)
    if item.content_type not in PREVIEWED or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=item.content_type, download_name=item.original_name)
    response.headers.update(VIEW_HEADERS)
    return response
