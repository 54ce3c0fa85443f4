"""The coordinator's pages: dashboard, escalation board, roadmaps (import), execution report."""

from __future__ import annotations

import copy
import io
import json
import secrets
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine.accounts.access import REGION_WIDE, can_reach
from engine.db import as_id
from engine.errors import DomainError, PermissionDeniedError
from engine.escalation import board as escalation_service
from engine.importing.arrival import PastDue
from engine.importing.corrections import Corrections, apply_texts, read_corrected
from engine.importing.sources import DocumentError
from engine.importing.structure import RoadmapDraft
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import (
    EscalationKind,
    ImportStatus,
    Organization,
    OrganizationKind,
    Roadmap,
    utcnow,
)
from engine.readmodels.directory import municipalities_in_scope
from engine.readmodels.escalations import SORTS as BOARD_SORTS
from engine.readmodels.escalations import VIEWS as BOARD_VIEWS
from engine.readmodels.escalations import BoardFilter
from engine.readmodels.progress import (
    AREA_SORTS,
    AreaProgress,
    Totals,
    execution_report,
    progress_by,
    report_heading,
    sections_progress,
    weekly_approvals,
)
from engine.readmodels.roadmaps import (
    recent_imports,
    roadmap_activities,
    roadmap_admin,
    roadmap_indicators,
    roadmap_sections,
    roadmaps_of,
)
from engine.readmodels.rounds import AT_RISK_SHARE, plan_against_actual, roadmap_rounds, with_rounds
from engine.readmodels.worklist import WorkFilter
from engine.usecases.escalations import acknowledge_many, escalation_board, waiting
from engine.usecases.importing import (
    import_job,
    preview_own,
    queue_import,
    roadmap_sources,
    run_queued,
)
from engine.usecases.roadmap_edits import may_edit, roadmap_changes
from engine.work import assignments
from web.context import actor, application, safe_next, today, user_zone, work
from web.converters import query_date, query_id
from web.diagrams import diagram_svg
from web.messages import russian
from web.occurrences import PER_PAGE, page_number, work_filter
from web.reports import progress_xlsx, report_docx, report_xlsx

bp = Blueprint("coordination", __name__)
UPLOAD_SUFFIXES = {
    ".docx", ".xlsx", ".pdf", ".csv", ".md", ".txt", ".tsv", ".yaml", ".yml", ".json"
}  # fmt: skip


def require_coordinator() -> None:
    """These pages are for coordinators and admins only."""
    if not current_user.is_coordinator:
        abort(403)


@bp.before_request
@login_required
def _coordinators_only():  # type: ignore[no-untyped-def]
    require_coordinator()


@bp.get("/dashboard")
def dashboard():  # type: ignore[no-untyped-def]
    """The figures of the territory, each a link to the list that shows it; completion
    against what is due so far beside the year's plan; by municipality for the region (a
    municipality opens its schools), by school below; filters by roadmap and period."""
    narrow, order = work_filter(request.args), area_order(request.args)
    app = application()
    with work(readonly=True) as db:
        by_municipality, areas, totals = _area_table(db, narrow, order)
        sections = sections_progress(app, db, actor(), today(), narrow)
        trend = weekly_approvals(app, db, actor(), today(), user_zone())
        roadmaps = roadmaps_of(db, actor())
        escalated = waiting(app, db, actor(), BoardFilter(work=narrow))
        municipality, _roadmap = _named(db, narrow)
        measured = with_rounds(db, [r.id for r in roadmaps])
        plan = (
            plan_against_actual(app, db, actor(), narrow.roadmap_id)
            if narrow.roadmap_id in measured
            else None
        )
    args = {k: v for k, v in request.args.items() if k in ("roadmap", "from", "to", "municipality")}
    return render_template(
        "dashboard.html",
        plan=plan,
        at_risk=round(AT_RISK_SHARE * 100),
        measured=[r for r in roadmaps if r.id in measured],
        totals=totals,
        areas=areas,
        by_municipality=by_municipality,
        municipality=municipality,
        sections=sections,
        trend=trend,
        roadmaps=roadmaps,
        escalated=escalated,
        narrow=narrow,
        args=args,
        order=order,
        area_sorts=AREA_SORTS,
        area_sort_names=AREA_SORT_NAMES,
        phases=Phase,
        today_iso=min(narrow.due_to or today(), today()).isoformat(),
    )


@bp.get("/dashboard/export.xlsx")
def dashboard_export():  # type: ignore[no-untyped-def]
    """The dashboard's table as shown (filter and order) as a spreadsheet, with its total."""
    narrow, order = work_filter(request.args), area_order(request.args)
    with work(readonly=True) as db:
        by_municipality, areas, totals = _area_table(db, narrow, order)
        place, roadmap = _named(db, narrow)
        home = actor().organization_id
        place = place or (db.get(Organization, home) if home else None)
    parts = ["Мониторинг выполнения", place.name if place else None]
    if roadmap is not None:
        parts.append(roadmap.title)
    if narrow.due_from or narrow.due_to:
        period = " — ".join(
            d.strftime("%d.%m.%Y") if d else "…" for d in (narrow.due_from, narrow.due_to)
        )
        parts.append("срок " + period)
    first = "Муниципалитет" if by_municipality else "Школа"
    rows = [
        (
            f"Муниципалитет ({a.name})"
            if a.kind == OrganizationKind.MUNICIPALITY and not by_municipality
            else a.name,
            a.figures,
        )
        for a in areas
    ]
    data = progress_xlsx(
        " — ".join(p for p in parts if p), first, rows, totals, utcnow().astimezone(user_zone())
    )
    return send_file(
        io.BytesIO(data),
        as_attachment=True,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        download_name=f"monitoring-{today():%Y-%m-%d}.xlsx",
    )


def _area_table(
    db: Any, narrow: WorkFilter, order: dict[str, Any]
) -> tuple[bool, list[AreaProgress], Totals]:
    """The dashboard's table as asked for: whether by municipality, its rows, their total."""
    by_municipality = _by_municipality(narrow)
    areas = progress_by(
        application(), db, actor(), today(), narrow, municipalities=by_municipality, **order
    )
    return by_municipality, areas, Totals.of(areas)


def _named(db: Any, narrow: WorkFilter) -> tuple[Organization | None, Roadmap | None]:
    """The municipality and the roadmap a filter names, when the actor reaches them."""
    place = roadmap = None
    if narrow.municipality_id and can_reach(db, actor(), narrow.municipality_id):
        place = db.get(Organization, narrow.municipality_id)
    if narrow.roadmap_id:
        found = db.get(Roadmap, narrow.roadmap_id)
        if found is not None and can_reach(db, actor(), found.owner_id):
            roadmap = found
    return place, roadmap


def _by_municipality(narrow: WorkFilter) -> bool:
    """The region's dashboard lists municipalities until one is opened."""
    regional = current_user.role in REGION_WIDE
    return regional and narrow.municipality_id is None


#: The dashboard's orders as its filter names them.
AREA_SORT_NAMES = {
    "name": _l("по названию"),
    "total": _l("по числу задач"),
    "percent": _l("по доле одобренного"),
    "percent_due": _l("по выполнению к сроку"),
    "under_review": _l("по числу на проверке"),
    "overdue": _l("по числу просроченных"),
}


def area_order(args: Any) -> dict[str, Any]:
    """The dashboard table's order from `?sort=&dir=`; anything unknown is by name."""
    sort = args.get("sort")
    return {
        "sort": sort if sort in AREA_SORTS else "name",
        "descending": args.get("dir") == "desc",
    }


@bp.get("/escalations")
def escalations():  # type: ignore[no-untyped-def]
    """The escalation board: what needs someone now, or what was dealt with; filtered,
    sorted, paged; occurrences and documents."""
    narrow = board_filter(request.args)
    with work(readonly=True) as db:
        board = escalation_board(
            application(), db, actor(), narrow=narrow, page=page_number(), per_page=PER_PAGE
        )
        roadmaps = roadmaps_of(db, actor())
        municipalities = (
            municipalities_in_scope(db, actor()) if current_user.role in REGION_WIDE else []
        )
    return render_template(
        "escalations.html",
        page=board.page,
        targets=board.targets,
        narrow=narrow,
        views=BOARD_VIEWS,
        sorts=BOARD_SORTS,
        roadmaps=roadmaps,
        municipalities=municipalities,
        today=today(),
    )


def board_filter(args: Any) -> BoardFilter:
    """The board's filter from its query string; anything unreadable is left out."""
    view, sort, kind = args.get("view"), args.get("sort"), args.get("kind")
    subject = args.get("subject")
    level = args.get("level", type=query_id)
    return BoardFilter(
        view=view if view in BOARD_VIEWS else BOARD_VIEWS[0],
        level=level if level in (1, 2, 3) else None,
        kind=kind if kind in (EscalationKind.OVERDUE, EscalationKind.REVIEW) else None,
        subject=SubjectKind(subject) if subject in set(SubjectKind) else None,
        sort=sort if sort in BOARD_SORTS else BOARD_SORTS[0],
        work=replace(work_filter(args), phase=None, active_only=False),
    )


@bp.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge(escalation_id: int):  # type: ignore[no-untyped-def]
    """Take an escalation in hand, with a comment."""
    try:
        with work() as db:
            escalation_service.acknowledge(
                db, actor(), escalation_id, request.form.get("comment", "")
            )
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(
            _("Эскалация принята к сведению: следующего уровня по этому сроку не будет."),
            "success",
        )
    return redirect(safe_next(url_for("coordination.escalations")), code=303)


@bp.post("/escalations/acknowledge")
def acknowledge_chosen():  # type: ignore[no-untyped-def]
    """Take the ticked escalations in hand with one comment, each on its own."""
    chosen = [i for raw in request.form.getlist("escalation") if (i := as_id(raw)) is not None]
    back = safe_next(url_for("coordination.escalations"))
    if not chosen:
        flash(_("Ничего не выбрано: отметьте эскалации."), "error")
        return redirect(back, code=303)
    result = acknowledge_many(application(), actor(), chosen, request.form.get("comment", ""))
    if result.done:
        flash(_("Принято к сведению: %(n)s.", n=result.done), "success")
    for escalation_id, error in result.refused[:10]:
        flash(f"№{escalation_id}: {russian(error)}", "error")
    return redirect(back, code=303)


@bp.post("/occurrences/<int:occurrence_id>/extend")
def extend(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Give more time, with a reason."""
    try:
        new_date = date.fromisoformat(request.form.get("due_on", ""))
    except ValueError:
        flash(_("Укажите новую дату срока."), "error")
        return redirect(url_for("coordination.escalations"), code=303)
    try:
        with work() as db:
            escalation_service.extend_deadline(
                db, actor(), occurrence_id, new_date, request.form.get("reason", "")
            )
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Срок продлён до %(day)s.", day=f"{new_date:%d.%m.%Y}"), "success")
    return redirect(safe_next(url_for("coordination.escalations")), code=303)


@bp.get("/roadmaps")
def roadmaps():  # type: ignore[no-untyped-def]
    """The roadmaps of the territory, and the form to import another."""
    with work(readonly=True) as db:
        items = roadmaps_of(db, actor())
        imports = recent_imports(db, actor()) if current_user.can_import else []
    return render_template("roadmaps.html", roadmaps=items, imports=imports, Status=ImportStatus)


def _upload_dir() -> Path:
    path = application().settings.upload_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.post("/roadmaps/preview")
def preview():  # type: ignore[no-untyped-def]
    """Read an uploaded document without writing anything: activities, kinds, who gets
    what, the work past due on arrival, and the warnings to acknowledge."""
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        flash(_("Выберите файл дорожной карты."), "error")
        return redirect(url_for("coordination.roadmaps"), code=303)
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        flash(_("Поддерживаются DOCX, XLSX, PDF, CSV, TXT/MD, YAML и JSON."), "error")
        return redirect(url_for("coordination.roadmaps"), code=303)
    token = secrets.token_hex(16)
    path = _upload_dir() / f"{token}{suffix}"
    upload.save(path)
    return _preview_page(path, Path(upload.filename).name)


def _preview_page(path: Path, name: str, problem: str | None = None):  # type: ignore[no-untyped-def]
    """The preview of the stashed document at `path`, with the coordinator's corrections;
    back to the roadmaps if unreadable."""
    fixes = _fixes_of(path)
    try:  # every row with its corrected texts, and the draft without the rows left out
        shown = read_corrected(path, Corrections(columns=fixes.columns, texts=fixes.texts))
        draft = apply_texts(copy.deepcopy(shown), Corrections(dropped=fixes.dropped))
        with work(readonly=True) as db:
            report, warnings = preview_own(application(), db, actor(), draft)
    except (DocumentError, PermissionDeniedError) as error:
        path.unlink(missing_ok=True)
        _fixes_file(path).unlink(missing_ok=True)
        flash(_("Не удалось прочитать документ: %(error)s", error=str(error)), "error")
        return redirect(url_for("coordination.roadmaps"), code=303)
    if warnings:  # kept beside the document: the confirmation needs their acknowledgement
        _warned(path).write_text(",".join(w.code for w in warnings), encoding="utf-8")
    kinds: dict[str, int] = {}
    for item in draft.activities:
        kinds[str(item.schedule.kind)] = kinds.get(str(item.schedule.kind), 0) + 1
    return render_template(
        "preview.html",
        draft=draft,
        token=path.name,
        kinds=kinds,
        name=name,
        summary=report.summary(),
        warnings=warnings,
        problem=problem,
        form=request.form,
        today=today(),
        fields=COLUMN_FIELDS,
        fixed=fixes,
        shown=shown,
    ), 422 if problem else 200


#: What a column of a roadmap table may mean, as the preview offers it.
COLUMN_FIELDS = (
    ("", _l("— не читать")),
    ("number", _l("№")),
    ("level", _l("Уровень")),
    ("title", _l("Мероприятие")),
    ("description", _l("Описание")),
    ("deadline_text", _l("Сроки")),
    ("responsible_text", _l("Ответственные")),
    ("planned_result", _l("Результат")),
    ("report_form", _l("Форма отчётности")),
)


def _fixes_file(document: Path) -> Path:
    """Where a preview keeps the coordinator's corrections of the document."""
    return document.with_name(document.name + ".fix.json")


def _fixes_of(document: Path) -> Corrections:
    stored = _fixes_file(document)
    if not stored.is_file():
        return Corrections()
    try:
        return Corrections.from_dict(json.loads(stored.read_text(encoding="utf-8")))
    except (ValueError, TypeError, AttributeError):
        return Corrections()


def _chosen_columns(layout_only: RoadmapDraft, current: Corrections) -> dict[int, dict[str, int]]:
    """The fields of each table's columns as the form gives them; ValueError on a field
    chosen twice in one table."""
    columns = dict(current.columns)
    for number, table in enumerate(layout_only.tables):
        chosen: dict[str, int] = {}
        for index in range(len(table.cells)):
            meaning = request.form.get(f"col_{number}_{index}")
            if meaning is None:
                chosen = dict(table.columns)
                break
            if meaning in chosen:
                raise ValueError(dict(COLUMN_FIELDS).get(meaning, meaning))
            if meaning in dict(COLUMN_FIELDS) and meaning:
                chosen[meaning] = index
        if chosen != table.columns:
            columns[number] = chosen
    return columns


def _chosen_texts(layout_only: RoadmapDraft, fixes: Corrections) -> None:
    """The rows' corrected texts and the rows left out, as the form gives them."""
    for index, activity in enumerate(layout_only.activities):
        texts = {}
        for field, written in (
            ("deadline_text", activity.deadline_text),
            ("responsible_text", activity.responsible_text or ""),
        ):
            given = request.form.get(f"{field}_{index}")
            if given is not None and given.strip() != written.strip():
                texts[field] = given
        if texts:
            fixes.texts[index] = texts
        if request.form.get(f"drop_{index}"):
            fixes.dropped.add(index)


@bp.post("/roadmaps/preview/fix")
def fix_preview():  # type: ignore[no-untyped-def]
    """Correct the preview: the meaning of a table's columns, an activity's deadline (read
    again at once) or responsible text, a row left out; nothing is written to the roadmap."""
    token = request.form.get("token", "")
    path = _upload_dir() / Path(token).name
    if not token or not path.is_file() or path.name.endswith((".fix.json", ".warned")):
        flash(_("Загрузите документ ещё раз."), "error")
        return redirect(url_for("coordination.roadmaps"), code=303)
    name = request.form.get("name", "")[:300] or path.name
    current = _fixes_of(path)
    try:
        layout_only = read_corrected(path, Corrections(columns=current.columns))
        columns = _chosen_columns(layout_only, current)
    except DocumentError as error:
        _fixes_file(path).unlink(missing_ok=True)
        return _preview_page(path, name, str(error))
    except ValueError as twice:
        problem = _("Один смысл — один столбец: «%(field)s» выбран дважды.", field=str(twice))
        return _preview_page(path, name, problem)
    fixes = Corrections(columns=columns)  # new columns: other rows, the rows start anew
    try:
        if columns == current.columns:
            _chosen_texts(layout_only, fixes)
            apply_texts(copy.deepcopy(layout_only), fixes)
        else:
            read_corrected(path, fixes)
    except DomainError as error:
        return _preview_page(path, name, str(error))
    _fixes_file(path).write_text(json.dumps(fixes.to_dict()), encoding="utf-8")
    flash(_("Исправления применены: проверьте сроки и подтвердите импорт."), "success")
    return _preview_page(path, name)


@bp.post("/roadmaps/confirm")
def confirm():  # type: ignore[no-untyped-def]
    """Queue the previewed document for import into the coordinator's municipality, with
    the choice for past-due work; warnings must have been acknowledged."""
    token = request.form.get("token", "")
    path = _upload_dir() / Path(token).name
    if not token or not path.is_file():
        flash(_("Загрузите документ ещё раз."), "error")
        return redirect(url_for("coordination.roadmaps"), code=303)
    name = request.form.get("name", "")[:300] or path.name
    if _warned(path).is_file() and not request.form.get("acknowledged"):
        return _preview_page(path, name, _("Отметьте, что вы прочитали предупреждения."))
    choice = request.form.get("past_due", PastDue.HISTORY)
    if choice not in {p.value for p in PastDue}:
        choice = PastDue.HISTORY
    moved_to = request.form.get("moved_to", type=query_date)
    if choice == PastDue.MOVE and (moved_to is None or moved_to < today()):
        return _preview_page(path, name, _("Укажите новую дату не раньше сегодняшней."))
    with work() as db:
        job_id = queue_import(
            application(),
            db,
            actor(),
            path,
            name,
            PastDue(choice),
            moved_to if choice == PastDue.MOVE else None,
            _fixes_of(path) or None,
        )
    _warned(path).unlink(missing_ok=True)
    _fixes_file(path).unlink(missing_ok=True)
    _start_import_runner()
    return redirect(url_for("coordination.import_status", job_id=job_id), code=303)


def _warned(document: Path) -> Path:
    """Where a preview notes the warnings the confirmation must see acknowledged."""
    return document.with_name(document.name + ".warned")


def _start_import_runner() -> None:
    """With Redis the Celery worker runs queued imports; without it, a thread of this process."""
    app = application()
    if app.settings.redis_url:
        return
    runner = threading.Thread(target=run_queued, args=(app,), name="import", daemon=True)
    runners = current_app.extensions.setdefault("roadmap.import_runners", [])
    runners[:] = [alive for alive in runners if alive.is_alive()] + [runner]
    runner.start()


@bp.get("/roadmaps/imports/<int:job_id>")
def import_status(job_id: int):  # type: ignore[no-untyped-def]
    """Where a queued import is; the page refreshes itself until it is over."""
    with work(readonly=True) as db:
        job = import_job(db, actor(), job_id)
        if job is None:
            abort(404)
        db.expunge(job)
    return render_template("import_job.html", job=job, Status=ImportStatus)


@bp.get("/roadmaps/<int:roadmap_id>/report.xlsx")
def report(roadmap_id: int):  # type: ignore[no-untyped-def]
    """«Отчёт о выполнении» as a spreadsheet, ready to send upward."""
    return _report_file(
        roadmap_id,
        report_xlsx,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _report_file(roadmap_id: int, render, suffix: str, mimetype: str):  # type: ignore[no-untyped-def]
    """The execution report of a roadmap, rendered by `render`, as a download."""
    with work(readonly=True) as db:
        roadmap_row, lines = execution_report(application(), db, actor(), roadmap_id, today())
        heading = report_heading(db, roadmap_row)
        indicators = roadmap_indicators(db, roadmap_id)
        plan = plan_against_actual(application(), db, actor(), roadmap_id)
    labels = application().registry.for_subject(SubjectKind.OCCURRENCE).definition
    data = render(
        roadmap_row,
        lines,
        labels.state_label,
        user_zone(),
        utcnow(),
        heading,
        indicators=indicators,
        plan=plan,
    )
    return send_file(
        io.BytesIO(data),
        as_attachment=True,
        mimetype=mimetype,
        download_name=f"otchet-o-vypolnenii-{roadmap_id}.{suffix}",
    )


def _flash_result(action, success):  # type: ignore[no-untyped-def]
    """Run one service call in a unit of work; flash its outcome in Russian."""
    try:
        with work() as db:
            result = action(db)
    except DomainError as error:
        flash(russian(error), "error")
        return None
    flash(success(result), "success")
    return result


def _back(default: str):  # type: ignore[no-untyped-def]
    return redirect(safe_next(default), code=303)


@bp.get("/roadmaps/<int:roadmap_id>")
def roadmap(roadmap_id: int):  # type: ignore[no-untyped-def]
    """A roadmap's participants and curators, and the on-demand work waiting for a date."""
    with work(readonly=True) as db:
        admin = roadmap_admin(application(), db, actor(), roadmap_id)
        editable = may_edit(actor(), admin.roadmap)
        activities = roadmap_activities(db, roadmap_id)
        indicators = roadmap_indicators(db, roadmap_id)
        sources = roadmap_sources(db, roadmap_id)
        changes = roadmap_changes(db, roadmap_id)
        sections = roadmap_sections(db, roadmap_id) if editable else []
        rounds = roadmap_rounds(application(), db, actor(), roadmap_id)
    return render_template(
        "roadmap.html",
        rounds=rounds,
        a=admin,
        activities=activities,
        indicators=indicators,
        sources=sources,
        changes=changes,
        sections=sections,
        editable=editable,
    )


@bp.post("/roadmaps/<int:roadmap_id>/participants")
def add_school(roadmap_id: int):  # type: ignore[no-untyped-def]
    """A school joins the roadmap and receives its school-level work."""
    school_id = request.form.get("school_id", type=query_id) or 0
    _flash_result(
        lambda db: assignments.add_participant(
            db, application().registry, actor(), roadmap_id, school_id
        ),
        lambda n: _("Школа добавлена, задач создано: %(n)s.", n=n),
    )
    return _back(url_for("coordination.roadmap", roadmap_id=roadmap_id))


@bp.post("/schools/<int:school_id>/curators")
def curators(school_id: int):  # type: ignore[no-untyped-def]
    """Assign a curator to a school, or take the school away from one."""
    curator_id = request.form.get("curator_id", type=query_id) or 0
    if request.form.get("action") == "remove":
        _flash_result(
            lambda db: assignments.unassign_curator(db, actor(), curator_id, school_id),
            lambda _result: _("Куратор снят."),
        )
    else:
        _flash_result(
            lambda db: assignments.assign_curator(db, actor(), curator_id, school_id),
            lambda _result: _("Куратор назначен."),
        )
    return _back(url_for("coordination.roadmaps"))


@bp.post("/occurrences/<int:occurrence_id>/date")
def date_work(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Give on-demand work its due date."""
    try:
        due = date.fromisoformat(request.form.get("due_on", ""))
    except ValueError:
        flash(_("Укажите дату."), "error")
    else:
        _flash_result(
            lambda db: assignments.date_occurrence(db, actor(), occurrence_id, due),
            lambda _result: _("Срок назначен: %(day)s.", day=f"{due:%d.%m.%Y}"),
        )
    return _back(url_for("coordination.roadmaps"))


@bp.post("/occurrences/<int:occurrence_id>/reassign")
def reassign(occurrence_id: int):  # type: ignore[no-untyped-def]
    """Hand unfinished work to another school or to the municipality, with a reason."""
    assignee = request.form.get("assignee_id", type=query_id) or 0
    _flash_result(
        lambda db: assignments.reassign(
            db,
            application().registry,
            actor(),
            occurrence_id,
            assignee,
            request.form.get("reason", ""),
        ),
        lambda _result: _("Исполнитель изменён."),
    )
    return _back(url_for("coordination.escalations"))


@bp.get("/roadmaps/<int:roadmap_id>/report.docx")
def report_docx_view(roadmap_id: int):  # type: ignore[no-untyped-def]
    """«Отчёт о выполнении» as a Word document."""
    return _report_file(
        roadmap_id,
        report_docx,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


#: What each lifecycle governs, as its diagram is titled.
WORKFLOW_TITLES = {
    SubjectKind.OCCURRENCE.value: _l("Мероприятие дорожной карты"),
    SubjectKind.DOCUMENT.value: _l("Документ школы"),
}


@bp.get("/admin/workflows")
def workflow_diagrams():  # type: ignore[no-untyped-def]
    """Every lifecycle, drawn from its definition."""
    if current_user.role != "admin":
        abort(403)
    diagrams = [
        (d, title, diagram_svg(d, title))
        for d in application().registry.definitions()
        for title in [f"{WORKFLOW_TITLES.get(d.subject, d.name)}, {_('версия')} {d.version}"]
    ]
    return render_template("workflows.html", diagrams=diagrams)
