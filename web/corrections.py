"""Correcting a roadmap after its import: its activities, its documents, its changes."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import DomainError
from engine.readmodels.roadmaps import roadmap_sections
from engine.usecases import indicator_edits, roadmap_edits
from engine.usecases.importing import source_document
from engine.usecases.roadmap_edits import EDITABLE, EditResult
from web.context import actor, application, work
from web.converters import query_id
from web.messages import russian

bp = Blueprint("corrections", __name__)


@bp.before_request
@login_required
def signed_in() -> None:
    """Every page here is for signed-in people; the use cases check role and tenant."""


def _texts() -> dict[str, str | None]:
    return {name: request.form[name] for name in EDITABLE if name in request.form}


def _done(result: EditResult, what: str) -> str:
    if not (result.added or result.removed or result.kept):
        return what
    return _(
        "%(what)s Задач добавлено: %(added)s, снято: %(removed)s, сохранено с историей: %(kept)s.",
        what=what,
        added=result.added,
        removed=result.removed,
        kept=result.kept,
    )


def _roadmap_page(roadmap_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("coordination.roadmap", roadmap_id=roadmap_id) + "#activities", 303)


@bp.get("/activities/<int:activity_id>/edit")
def edit_page(activity_id: int):  # type: ignore[no-untyped-def]
    """The form to correct one activity, move it or remove it."""
    with work(readonly=True) as db:
        activity = roadmap_edits.activity_to_edit(db, actor(), activity_id)
        sections = roadmap_sections(db, activity.roadmap_id)
        db.expunge(activity)
    return render_template("activity_edit.html", activity=activity, sections=sections)


@bp.post("/activities/<int:activity_id>/edit")
def edit(activity_id: int):  # type: ignore[no-untyped-def]
    """Save an activity's texts and section; its work follows a new deadline."""
    try:
        with work() as db:
            result = roadmap_edits.edit_activity(application(), db, actor(), activity_id, _texts())
            if "section_id" in request.form:
                section_id = request.form.get("section_id", type=query_id)
                roadmap_edits.move_activity(db, actor(), activity_id, section_id)
            roadmap_id = roadmap_edits.roadmap_of(db, activity_id)
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("corrections.edit_page", activity_id=activity_id), 303)
    flash(_done(result, _("Мероприятие сохранено.")), "success")
    return _roadmap_page(roadmap_id)


@bp.post("/activities/<int:activity_id>/remove")
def remove(activity_id: int):  # type: ignore[no-untyped-def]
    """Remove an activity nobody has worked on."""
    try:
        with work() as db:
            roadmap_id = roadmap_edits.roadmap_of(db, activity_id)
            result = roadmap_edits.remove_activity(application(), db, actor(), activity_id)
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("corrections.edit_page", activity_id=activity_id), 303)
    flash(_done(result, _("Мероприятие удалено.")), "success")
    return _roadmap_page(roadmap_id)


@bp.post("/roadmaps/<int:roadmap_id>/activities")
def add(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Add an activity to a roadmap, with its work."""
    try:
        with work() as db:
            result = roadmap_edits.add_activity(
                application(),
                db,
                actor(),
                roadmap_id,
                _texts(),
                request.form.get("section_id", type=query_id),
            )
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_done(result, _("Мероприятие добавлено.")), "success")
    return _roadmap_page(roadmap_id)


def _indicator_texts() -> dict[str, str | None]:
    return {name: request.form[name] for name in indicator_edits.FIELDS if name in request.form}


def _indicators_page(roadmap_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("coordination.roadmap", roadmap_id=roadmap_id) + "#indicators", 303)


@bp.get("/indicators/<int:indicator_id>/edit")
def indicator_page(indicator_id: int):  # type: ignore[no-untyped-def]
    """The form to correct one target indicator or remove it."""
    with work(readonly=True) as db:
        indicator = indicator_edits.indicator_to_edit(db, actor(), indicator_id)
        db.expunge(indicator)
    return render_template("indicator_edit.html", indicator=indicator)


@bp.post("/indicators/<int:indicator_id>/edit")
def edit_indicator(indicator_id: int):  # type: ignore[no-untyped-def]
    """Save an indicator's target, unit, direction, baseline, due date and scope."""
    try:
        with work() as db:
            indicator = indicator_edits.edit_indicator(
                db, actor(), indicator_id, _indicator_texts()
            )
            roadmap_id = indicator.roadmap_id
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("corrections.indicator_page", indicator_id=indicator_id), 303)
    flash(_("Показатель сохранён."), "success")
    return _indicators_page(roadmap_id)


@bp.post("/indicators/<int:indicator_id>/remove")
def remove_indicator(indicator_id: int):  # type: ignore[no-untyped-def]
    """Remove a target indicator."""
    try:
        with work() as db:
            roadmap_id = indicator_edits.remove_indicator(db, actor(), indicator_id)
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("corrections.indicator_page", indicator_id=indicator_id), 303)
    flash(_("Показатель удалён."), "success")
    return _indicators_page(roadmap_id)


@bp.post("/roadmaps/<int:roadmap_id>/indicators")
def add_indicator(roadmap_id: int):  # type: ignore[no-untyped-def]
    """Add a target indicator to a roadmap."""
    try:
        with work() as db:
            indicator_edits.add_indicator(db, actor(), roadmap_id, _indicator_texts())
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Показатель добавлен."), "success")
    return _indicators_page(roadmap_id)


@bp.get("/roadmaps/<int:roadmap_id>/documents/<int:job_id>")
def source(roadmap_id: int, job_id: int):  # type: ignore[no-untyped-def]
    """Download a document the roadmap was imported from."""
    with work(readonly=True) as db:
        roadmap_edits.check_can_see(db, actor(), roadmap_id)
        found, path = source_document(application(), db, roadmap_id, job_id)
    response = send_file(  # at most MAX_DOCUMENT_BYTES, read whole: no file left open
        io.BytesIO(path.read_bytes()), as_attachment=True, download_name=found.file_name
    )
    response.headers["Cache-Control"] = "no-store"
    return response
