"""Monitoring rounds in the web: a coordinator opens one, participants enter their values
and answers, curators accept or return them, and the plan is set against the actual."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from engine.accounts.access import REGION_WIDE
from engine.db import as_id
from engine.errors import DomainError, ValidationError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import IndicatorScope, QuestionKind
from engine.readmodels.roadmaps import roadmap_indicators
from engine.readmodels.rounds import (
    AT_RISK_SHARE,
    plan_against_actual,
    round_detail,
    submission_detail,
)
from engine.usecases.monitoring import enter_and_act
from engine.usecases.roadmap_edits import check_can_see
from engine.work.rounds import MAX_CHOICES, QuestionDraft, open_round
from web.context import actor, application, work
from web.desk import queue_url
from web.messages import N_, russian
from web.occurrences import (
    PREVIEWED,
    act_on,
    available_actions,
    note_opened,
    page_number,
    returned_with,
    uploaded_files,
)

bp = Blueprint("rounds", __name__)

#: Blank question rows the form to open a round offers.
QUESTION_ROWS = 5
QUESTION_KINDS = {
    QuestionKind.SINGLE.value: N_("один вариант"),
    QuestionKind.MULTIPLE.value: N_("несколько вариантов"),
    QuestionKind.NUMBER.value: N_("число"),
    QuestionKind.TEXT.value: N_("текст"),
}


@bp.before_request
@login_required
def signed_in() -> None:
    """Every page here is for signed-in people."""


@bp.get("/roadmaps/<int:roadmap_id>/rounds/new")
def new_round(roadmap_id: int):  # type: ignore[no-untyped-def]
    """The form that opens a round: its window, indicators and survey."""
    return _round_form(roadmap_id, MultiDict())


def _round_form(roadmap_id: int, typed: MultiDict[str, str]) -> str:
    with work(readonly=True) as db:
        roadmap = check_can_see(db, actor(), roadmap_id)
        indicators = roadmap_indicators(db, roadmap_id)
    return render_template(
        "round_new.html",
        roadmap=roadmap,
        indicators=indicators,
        typed=typed,
        question_rows=QUESTION_ROWS,
        question_kinds=QUESTION_KINDS,
        max_choices=MAX_CHOICES,
    )


@bp.post("/roadmaps/<int:roadmap_id>/rounds")
def create_round(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Open the round; on an error the form comes back (422) as it was typed."""
    form = request.form
    try:
        opens_on, closes_on = _day(form, "opens_on"), _day(form, "closes_on")
        indicator_ids = [i for i in (as_id(v) for v in form.getlist("indicator")) if i]
        questions = [
            QuestionDraft(
                form.get(f"q{n}-text", ""),
                form.get(f"q{n}-kind", QuestionKind.SINGLE.value),
                tuple(form.get(f"q{n}-choices", "").splitlines()),
            )
            for n in range(QUESTION_ROWS)
            if form.get(f"q{n}-text", "").strip()
        ]
        app = application()
        with work() as db:
            monitoring = open_round(
                db,
                app.registry,
                actor(),
                roadmap_id,
                title=form.get("title", ""),
                opens_on=opens_on,
                closes_on=closes_on,
                scope=form.get("scope", IndicatorScope.SCHOOL.value),
                indicator_ids=indicator_ids,
                questions=questions,
                now=app.clock(),
            )
            round_id = monitoring.id
    except DomainError as error:
        flash(russian(error), "error")
        return _round_form(roadmap_id, form), 422
    flash(_("Этап мониторинга открыт: участники получили задачу."), "success")
    return redirect(url_for("rounds.round_page", round_id=round_id), code=303)


def regional_view() -> bool:
    """The region sees municipalities side by side; everyone else, the participants."""
    return current_user.role in REGION_WIDE


def _day(form: Any, name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, ""))
    except ValueError:
        raise ValidationError(f"{name}: not a date", reason="date_required") from None


@bp.get("/rounds/<int:round_id>")
def round_page(round_id: int):  # type: ignore[no-untyped-def]
    """A round: who has sent what, their values, and the survey added up."""
    app = application()
    with work(readonly=True) as db:
        detail = round_detail(app, db, actor(), round_id, page=page_number())
    definition = app.registry.for_subject(SubjectKind.SUBMISSION).definition
    return render_template(
        "round.html",
        r=detail,
        definition=definition,
        question_kinds=QUESTION_KINDS,
    )


@bp.get("/roadmaps/<int:roadmap_id>/monitoring")
def plan(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Each indicator's target against the accepted values of each round."""
    app = application()
    with work(readonly=True) as db:
        found = plan_against_actual(app, db, actor(), roadmap_id, by_municipality=regional_view())
    return render_template(
        "plan.html",
        plan=found,
        by_municipality=regional_view(),
        at_risk=round(AT_RISK_SHARE * 100),
    )


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):  # type: ignore[no-untyped-def]
    """One submission: its values, answers and files, and the actions the user may take."""
    return submission_page(submission_id, {})


def submission_page(submission_id: int, typed: Any) -> str:
    """The submission page, its form holding `typed` (after an error)."""
    typed = typed if isinstance(typed, MultiDict) else MultiDict(typed)
    app = application()
    with work(readonly=True) as db:
        detail = submission_detail(app, db, actor(), submission_id)
        definition = app.registry.get(detail.workflow_name, detail.workflow_version).definition
        subject = (SubjectKind.SUBMISSION, submission_id)
        actions, can_enter = available_actions(
            db, definition, subject, detail.state, detail.assignee_id
        )
    note_opened(SubjectKind.SUBMISSION, submission_id, actions)
    return render_template(
        "submission.html",
        d=detail,
        definition=definition,
        actions=actions,
        entry_actions=[rule for rule in actions if definition.takes_evidence(rule)],
        review_actions=[rule for rule in actions if not definition.takes_evidence(rule)],
        can_enter=can_enter,
        typed=typed,
        question_kinds=QUESTION_KINDS,
        returned_with=returned_with(definition, detail.state, detail.history),
        previews=[f for f in detail.evidence if f.content_type in PREVIEWED],
        desk_queue=queue_url(),
        under_review=definition.phase_of(detail.state) is Phase.UNDER_REVIEW,
    )


@bp.post("/submissions/<int:submission_id>/entries")
def enter(submission_id: int):  # type: ignore[no-untyped-def]
    """Save the values, answers and files; with a trigger, send them for review as well."""
    form = request.form
    action = form.get("action", "save")
    files = uploaded_files()
    app = application()
    try:
        values = {
            _field_id(name, "value-"): (text, form.get(f"comment-{name[6:]}", ""))
            for name, text in form.items()
            if name.startswith("value-")
        }
        answers = {
            _field_id(name, "answer-"): form.getlist(name)
            for name in form
            if name.startswith("answer-")
        }
        with work() as db:
            result = enter_and_act(
                app,
                db,
                actor(),
                submission_id,
                values=values,
                answers=answers,
                files=files,
                trigger=None if action == "save" else action,
            )
    except DomainError as error:
        flash(russian(error), "error")
        if files:
            flash(_("Значения остались в форме; файлы выберите ещё раз."), "info")
        return submission_page(submission_id, form), 422
    if result is None:
        flash(_("Сохранено. Когда всё будет заполнено, отправьте данные на проверку."), "success")
    else:
        flash(_("Данные отправлены на проверку. О решении придёт уведомление."), "success")
    return redirect(url_for("rounds.submission", submission_id=submission_id), code=303)


def _field_id(name: str, prefix: str) -> int:
    found = as_id(name.removeprefix(prefix))
    if found is None:
        raise ValidationError(f"{name[:40]}: not a field of this form", reason="unknown_question")
    return found


@bp.post("/submissions/<int:submission_id>/<trigger>")
def act(submission_id: int, trigger: str):  # type: ignore[no-untyped-def]
    """Accept or return a submission (the reviewer's verdict)."""
    return act_on(
        SubjectKind.SUBMISSION,
        submission_id,
        trigger,
        url_for("rounds.submission", submission_id=submission_id),
        lambda typed: submission_page(submission_id, typed),
    )
