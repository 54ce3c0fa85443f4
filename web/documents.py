"""School documents: a school submits them, its curator approves («ОДОБРЕНО») or returns them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine.errors import DomainError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.readmodels.subjects import document_detail, documents
from engine.work.documents import KIND_NAMES, create_document
from web.context import actor, application, work
from web.desk import queue_url
from web.messages import russian
from web.occurrences import (
    ATTACH_ONLY,
    PER_PAGE,
    PREVIEWED,
    act_on,
    available_actions,
    note_opened,
    page_number,
    returned_with,
)

bp = Blueprint("documents", __name__)


@bp.get("/documents")
@login_required
def document_list():  # type: ignore[no-untyped-def]
    """The documents in the user's tenant; a school also gets the form to add one."""
    with work(readonly=True) as db:
        page = documents(db, actor(), page=page_number(), per_page=PER_PAGE)
    definition = application().registry.for_subject(SubjectKind.DOCUMENT).definition
    return render_template("documents.html", page=page, kinds=KIND_NAMES, definition=definition)


@bp.post("/documents")
@login_required
def create():  # type: ignore[no-untyped-def]
    """Create a draft, attach its file and, if asked, send it for review at once."""
    try:
        with work() as db:
            document = create_document(
                db,
                application().registry,
                actor(),
                request.form.get("kind", ""),
                request.form.get("title", ""),
            )
            document_id = document.id
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("documents.document_list"), code=303)
    definition = application().registry.for_subject(SubjectKind.DOCUMENT).definition
    submit = definition.rule_into(definition.initial, Phase.UNDER_REVIEW)
    sending = request.form.get("send_for_review") == "1" and submit is not None
    trigger = submit.trigger if sending and submit else ATTACH_ONLY
    return act_on(
        SubjectKind.DOCUMENT,
        document_id,
        trigger,
        url_for("documents.document", document_id=document_id),
        lambda typed: document_page(document_id, typed),
    )


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):  # type: ignore[no-untyped-def]
    """One document: its files, its history, and the actions the user may take."""
    return document_page(document_id, {})


def document_page(document_id: int, typed: dict[str, str]) -> str:
    """The document page, its forms holding `typed` text (after an error)."""
    with work(readonly=True) as db:
        detail = document_detail(db, actor(), document_id)
        definition = (
            application().registry.get(detail.workflow_name, detail.workflow_version).definition
        )
        actions, can_attach = available_actions(
            db, definition, (SubjectKind.DOCUMENT, document_id), detail.state, detail.school_id
        )
    note_opened(SubjectKind.DOCUMENT, document_id, actions)
    return render_template(
        "document.html",
        d=detail,
        definition=definition,
        actions=actions,
        can_attach=can_attach,
        kinds=KIND_NAMES,
        typed=typed,
        returned_with=returned_with(definition, detail.state, detail.history),
        previews=[f for f in detail.evidence if f.content_type in PREVIEWED],
        desk_queue=queue_url(),
        under_review=definition.phase_of(detail.state) is Phase.UNDER_REVIEW,
    )


@bp.post("/documents/<int:document_id>/<trigger>")
@login_required
def act(document_id: int, trigger: str):  # type: ignore[no-untyped-def]
    """Submit, approve or return a document (with its files)."""
    return act_on(
        SubjectKind.DOCUMENT,
        document_id,
        trigger,
        url_for("documents.document", document_id=document_id),
        lambda typed: document_page(document_id, typed),
    )
