"""The directory and its people: schools and accounts of one's territory; for the admin,
loading both from spreadsheets (with a preview), and taking people out with a handover."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts.access import Power, require_manage, require_power, require_reach
from engine.accounts.invitations import INVITATION, RESET, send_logged_link
from engine.directory.people import (
    apply_people,
    change_scope,
    plan_people,
    read_people,
)
from engine.directory.schools import (
    PROGRAMMES,
    apply_directory,
    plan_directory,
    read_directory,
)
from engine.errors import DomainError, NotFoundError, PermissionDeniedError
from engine.models import Organization, Role, User
from engine.readmodels.directory import (
    find_school,
    municipalities_in_scope,
    people_page,
    person_card,
    school_card,
    schools_page,
)
from engine.usecases.people import take_out_as
from engine.work import assignments
from web.context import actor, application, work
from web.converters import query_id, query_page
from web.messages import russian

bp = Blueprint("directory", __name__)
PER_PAGE = 50
SHEETS = {".xlsx", ".csv"}
PROGRAMME_NAMES = {"low_results": "ШНОР", "risk_of_low_results": "ШсРНР", "500_plus": "500+"}


@bp.before_request
@login_required
def _coordinators_and_admins():  # type: ignore[no-untyped-def]
    if not current_user.is_coordinator:
        abort(403)


def _page() -> int:
    return request.args.get("page", 1, type=query_page)


@bp.get("/directory")
def schools():  # type: ignore[no-untyped-def]
    """The schools of the territory: search, municipality, programme status, pages."""
    programme = request.args.get("programme") or None
    if programme not in PROGRAMMES:
        programme = None
    search = (request.args.get("q") or "").strip()[:100] or None
    municipality_id = request.args.get("municipality", type=query_id)
    with work(readonly=True) as db:
        page = schools_page(
            db,
            actor(),
            search=search,
            municipality_id=municipality_id,
            programme=programme,
            page=_page(),
            per_page=PER_PAGE,
        )
        municipalities = municipalities_in_scope(db, actor())
    return render_template(
        "directory.html",
        page=page,
        municipalities=municipalities,
        programmes=PROGRAMME_NAMES,
        chosen={"q": search or "", "municipality": municipality_id, "programme": programme},
    )


@bp.get("/directory/schools/<int:school_id>")
def school(school_id: int):  # type: ignore[no-untyped-def]
    """A school in the directory: its people, curators, roadmaps, documents and changes."""
    with work(readonly=True) as db:
        card = school_card(db, actor(), school_id)
    return render_template("directory_school.html", card=card, programmes=PROGRAMME_NAMES)


@bp.get("/people")
def people():  # type: ignore[no-untyped-def]
    """People of the territory: search, role, municipality, pages."""
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    search = (request.args.get("q") or "").strip()[:100] or None
    municipality_id = request.args.get("municipality", type=query_id)
    page = _page()
    with work(readonly=True) as db:
        total, rows = people_page(
            db, role, search, PER_PAGE, (page - 1) * PER_PAGE, actor(), municipality_id
        )
        municipalities = municipalities_in_scope(db, actor())
    return render_template(
        "people.html",
        rows=rows,
        page={"page": page, "total": total, "pages": max(1, -(-total // PER_PAGE))},
        municipalities=municipalities,
        chosen={"q": search or "", "role": role, "municipality": municipality_id},
    )


@bp.get("/people/<int:user_id>")
def person(user_id: int):  # type: ignore[no-untyped-def]
    """A person: role, organization, a curator's schools, the log; invite, reset, deactivate."""
    with work(readonly=True) as db:
        card = person_card(db, actor(), user_id)
    return render_template("person.html", card=card)


@bp.post("/people/<int:user_id>/invite")
def invite(user_id: int):  # type: ignore[no-untyped-def]
    """A new invitation by mail (the person's older links stop working)."""
    return _send(user_id, "invite")


@bp.post("/people/<int:user_id>/reset")
def reset(user_id: int):  # type: ignore[no-untyped-def]
    """A link to set a new password, by mail (the current password works until then)."""
    return _send(user_id, "reset")


def _send(user_id: int, purpose: str):  # type: ignore[no-untyped-def]
    require_power(actor(), Power.INVITE, "people")
    with work() as db:
        person_card(db, actor(), user_id)  # in scope, or 404
        user = db.get(User, user_id)
        if user is None or not user.is_active or not user.email:
            flash(_("У пользователя нет действующей учётной записи с почтой."), "error")
            return redirect(url_for("directory.person", user_id=user_id), code=303)
        kind = INVITATION if purpose == "invite" else RESET
        send_logged_link(db, actor().login, user, kind, application().settings.public_url)
        email = user.email
    flash(_("Ссылка отправлена на %(email)s.", email=email), "success")
    return redirect(url_for("directory.person", user_id=user_id), code=303)


@bp.post("/people/<int:user_id>/deactivate")
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    """Take a person out at once; each school they curate goes to the successor chosen
    for it (`handover_<school>`, else `handover_to` for all)."""
    who = actor()
    require_power(who, Power.MANAGE, "people")
    everyone = request.form.get("handover_to", type=query_id)
    handover = {
        int(key.removeprefix("handover_")): value
        for key in request.form
        if key.startswith("handover_")
        and key.removeprefix("handover_").isdigit()
        and (value := request.form.get(key, type=query_id) or everyone) is not None
    }
    try:
        with work() as db:
            take_out_as(db, who, user_id, handover or everyone)
    except (NotFoundError, PermissionDeniedError):
        raise
    except DomainError as error:
        flash(russian(error), "error")
        return redirect(url_for("directory.person", user_id=user_id), code=303)
    flash(_("Учётная запись отключена."), "success")
    try:  # back to the person, unless the handover took them out of one's sight
        with work(readonly=True) as db:
            person_card(db, who, user_id)
    except NotFoundError:
        return redirect(url_for("directory.people"), code=303)
    return redirect(url_for("directory.person", user_id=user_id), code=303)


@bp.post("/people/<int:user_id>/schools")
def assign(user_id: int):  # type: ignore[no-untyped-def]
    """Give a curator one more school, named by ИНН or by name."""
    text = (request.form.get("school") or "").strip()[:300]
    try:
        with work() as db:
            person_card(db, actor(), user_id)  # in scope, or 404
            school_id = _school_named(db, text)
            assignments.assign_curator(db, actor(), user_id, school_id)
    except NotFoundError as error:
        flash(russian(error) if text else _("Укажите ИНН или название школы."), "error")
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Школа закреплена за куратором."), "success")
    return redirect(url_for("directory.person", user_id=user_id), code=303)


@bp.post("/people/<int:user_id>/schools/<int:school_id>/remove")
def unassign(user_id: int, school_id: int):  # type: ignore[no-untyped-def]
    """Take one school away from a curator."""
    try:
        with work() as db:
            person_card(db, actor(), user_id)
            assignments.unassign_curator(db, actor(), user_id, school_id)
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Школа откреплена."), "success")
    return redirect(url_for("directory.person", user_id=user_id), code=303)


@bp.post("/people/<int:user_id>/scope")
def scope(user_id: int):  # type: ignore[no-untyped-def]
    """Move school staff or a coordinator to another organization of one's territory."""
    who = actor()
    require_power(who, Power.MANAGE, "people")
    text = (request.form.get("organization") or "").strip()[:300]
    try:
        with work() as db:
            person_card(db, who, user_id)  # in scope, or 404
            user = db.get(User, user_id)
            assert user is not None
            require_manage(who, user.role, "people")
            moved_to = change_scope(db, who.login, user, text)
            if moved_to is not None:
                require_reach(db, who, moved_to, "that organization")
    except PermissionDeniedError:
        raise
    except DomainError as error:
        flash(russian(error), "error")
    else:
        flash(_("Организация изменена."), "success")
    return redirect(url_for("directory.person", user_id=user_id), code=303)


def _school_named(db, text: str) -> int:  # type: ignore[no-untyped-def]
    """A school by its ИНН, else by a unique part of its name."""
    if not text:
        raise NotFoundError("no school named")
    by_inn = db.execute(select(Organization.id).where(Organization.inn == text)).scalar()
    return by_inn if by_inn is not None else find_school(db, text)


# --- loading the spreadsheets (the admin) ---------------------------------------------------


def _stash(field_name: str) -> Path | None:
    """The uploaded sheet, saved under a random name for its confirmation; None if unfit."""
    upload = request.files.get(field_name)
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    if upload is None or suffix not in SHEETS:
        flash(_("Загрузите файл XLSX или CSV."), "error")
        return None
    folder = application().settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{suffix}"
    upload.save(path)
    return path


def _stashed() -> Path | None:
    token = Path(request.form.get("token", "")).name
    path = application().settings.upload_dir / token
    return path if token and path.is_file() else None


@bp.post("/directory/preview")
def directory_preview():  # type: ignore[no-untyped-def]
    """What importing the directory file would do; nothing is written."""
    require_power(actor(), Power.ADMINISTER, "the directory")
    path = _stash("sheet")
    if path is None:
        return redirect(url_for("directory.schools"), code=303)
    name = Path(request.files["sheet"].filename or path.name).name
    try:
        rows = read_directory(path, name)
        with work(readonly=True) as db:
            plan = plan_directory(db, rows, name)
    except DomainError as error:
        path.unlink(missing_ok=True)
        flash(_("Файл не загружен: %(error)s", error=str(error)), "error")
        return redirect(url_for("directory.schools"), code=303)
    return render_template(
        "directory_preview.html", plan=plan, token=path.name, name=name, kind="directory"
    )


@bp.post("/directory/confirm")
def directory_confirm():  # type: ignore[no-untyped-def]
    require_power(actor(), Power.ADMINISTER, "the directory")
    path = _stashed()
    if path is None:
        flash(_("Загрузите файл ещё раз."), "error")
        return redirect(url_for("directory.schools"), code=303)
    name = request.form.get("name", "")[:300] or path.name
    try:
        rows = read_directory(path, name)
        with work() as db:
            plan = plan_directory(db, rows, name)
            apply_directory(db, plan, actor().login)
    except DomainError as error:
        flash(_("Файл не загружен: %(error)s", error=str(error)), "error")
        return redirect(url_for("directory.schools"), code=303)
    finally:
        path.unlink(missing_ok=True)
    flash(
        _(
            "Справочник загружен: школ добавлено %(created)s, изменено %(changed)s.",
            created=len(plan.created),
            changed=len(plan.changed),
        ),
        "success",
    )
    return redirect(url_for("directory.schools"), code=303)


@bp.post("/people/preview")
def people_preview():  # type: ignore[no-untyped-def]
    """What importing the people file would do; nothing is written or sent."""
    require_power(actor(), Power.ADMINISTER, "people")
    path = _stash("sheet")
    if path is None:
        return redirect(url_for("directory.people"), code=303)
    name = Path(request.files["sheet"].filename or path.name).name
    try:
        with work(readonly=True) as db:
            plan = plan_people(db, read_people(db, path, name), name)
    except DomainError as error:
        path.unlink(missing_ok=True)
        flash(_("Файл не загружен: %(error)s", error=str(error)), "error")
        return redirect(url_for("directory.people"), code=303)
    return render_template(
        "directory_preview.html", plan=plan, token=path.name, name=name, kind="people"
    )


@bp.post("/people/confirm")
def people_confirm():  # type: ignore[no-untyped-def]
    require_power(actor(), Power.ADMINISTER, "people")
    path = _stashed()
    if path is None:
        flash(_("Загрузите файл ещё раз."), "error")
        return redirect(url_for("directory.people"), code=303)
    name = request.form.get("name", "")[:300] or path.name
    try:
        with work() as db:
            plan = plan_people(db, read_people(db, path, name), name)
            apply_people(db, plan, actor().login, application().settings.public_url)
    except DomainError as error:
        flash(_("Файл не загружен: %(error)s", error=str(error)), "error")
        return redirect(url_for("directory.people"), code=303)
    finally:
        path.unlink(missing_ok=True)
    flash(
        _(
            "Пользователи загружены: добавлено и приглашено %(created)s, изменено %(changed)s.",
            created=len(plan.created),
            changed=len(plan.changed),
        ),
        "success",
    )
    return redirect(url_for("directory.people"), code=303)
