"""Sign-in and sign-out: hashed passwords, rate-limited attempts, sessions that really end."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.accounts.audit import log_change
from engine.accounts.invitations import (
    RESET,
    link_status,
    send_logged_link,
    set_password_by_link,
    user_by_email,
)
from engine.accounts.signin import SignInLimits, record_failure, refused
from engine.accounts.users import (
    RUSSIAN_TIMEZONES,
    authenticate,
    change_password,
    list_tokens,
    revoke_token,
    rotate_session_token,
    set_timezone,
    signed_in_user,
    update_profile,
)
from engine.db import single_read
from engine.errors import ValidationError
from engine.models import User, utcnow
from web.context import WebUser, application, engine, work
from web.extensions import login_manager
from web.messages import russian

bp = Blueprint("auth", __name__)

#: Interface languages: Russian first; English for visitors and the federal level.
LANGUAGES = {"ru": "Русский", "en": "English"}


class LoginForm(FlaskForm):
    """The sign-in form."""

    login = StringField(_l("Логин"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Пароль"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    """Changing one's own password."""

    current = PasswordField(_l("Текущий пароль"), validators=[DataRequired()])
    new = PasswordField(_l("Новый пароль"), validators=[DataRequired(), Length(min=8, max=200)])


def web_user(user: User) -> WebUser:
    """The session's view of a user row."""
    return WebUser(
        user.id,
        user.login,
        user.full_name,
        user.role,  # type: ignore[arg-type]
        user.organization_id,
        user.session_token,
        user.timezone,
    )


@login_manager.user_loader
def load_user(cookie_id: str) -> WebUser | None:
    """The user of a session cookie, only while its token is the user's current one."""
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    with single_read(engine()) as connection:
        row = signed_in_user(connection, int(user_id), token)
    return None if row is None else WebUser(**row._asdict())  # columns named as fields


def _login_limits() -> SignInLimits:
    return SignInLimits.parse(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """The sign-in page. Failures count per account and per address, across workers; while
    either is used up the answer is 429, for a login that exists and one that does not."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        name, address, now = form.login.data.strip(), request.remote_addr, utcnow()
        limits = _login_limits()
        with work() as db:
            if refused(db, limits, name, address, now):
                abort(429)
            user = authenticate(db, name, form.password.data)
            found = web_user(user) if user else None
            if found is None:
                record_failure(db, name, address, now)
        if found is None:
            flash(_("Неверный логин или пароль."), "error")
        else:
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            session.permanent = True
            login_user(found)
            return redirect(url_for("home"))
    return render_template("login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Sign out everywhere: the session token changes, so every old cookie is refused."""
    with work() as db:
        rotate_session_token(db, current_user.id)
    logout_user()
    session.clear()
    flash(_("Вы вышли из системы."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():  # type: ignore[no-untyped-def]
    """One's own settings: the time zone dates and times are shown in."""
    if request.method == "POST":
        zone = request.form.get("timezone") or None
        language = request.form.get("language")
        if language in LANGUAGES:
            session["lang"] = language
        try:
            with work() as db:
                set_timezone(db, current_user.id, zone)
        except ValidationError:
            flash(_("Неизвестный часовой пояс."), "error")
        else:
            flash(_("Настройки сохранены."), "success")
        return redirect(url_for("auth.account"), code=303)
    with work(readonly=True) as db:
        tokens = list_tokens(db, current_user.id)
        me = db.get(User, current_user.id)
        email = me.email if me else None
    return render_template(
        "account.html",
        zones=RUSSIAN_TIMEZONES,
        languages=LANGUAGES,
        tokens=tokens,
        now=utcnow(),
        email=email,
    )


@bp.post("/account/profile")
@login_required
def profile():  # type: ignore[no-untyped-def]
    """Change one's own name and e-mail (the address links are sent to)."""
    try:
        with work() as db:
            changed = update_profile(
                db,
                current_user.id,
                request.form.get("full_name", "")[:400],
                request.form.get("email", "")[:400],
            )
            if changed:
                user = db.get(User, current_user.id)
                before = {k: v[0] for k, v in changed.items()}
                after = {k: v[1] for k, v in changed.items()}
                log_change(db, current_user.login, user, "changed", before, after)  # type: ignore[arg-type]
    except ValidationError as error:
        flash(russian(error), "error")
    else:
        flash(_("Настройки сохранены."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    """Revoke one of one's own API tokens; anyone else's is 404."""
    with work() as db:
        revoke_token(db, token_id, user_id=current_user.id)
    flash(_("Токен отозван."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():  # type: ignore[no-untyped-def]
    """Change one's password; every session, this one included, ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            with work() as db:
                change_password(db, current_user.id, form.current.data, form.new.data)
        except ValidationError:
            flash(_("Текущий пароль указан неверно."), "error")
        else:
            logout_user()
            session.clear()
            flash(_("Пароль изменён. Войдите с новым паролем."), "info")
            return redirect(url_for("auth.login"))
    return render_template("password.html", form=form)


class ForgotForm(FlaskForm):
    """Asking for a link to set a new password."""

    email = StringField(_l("Электронная почта"), validators=[DataRequired(), Length(max=300)])


class SetPasswordForm(FlaskForm):
    """Setting one's password from a one-time link."""

    new = PasswordField(_l("Новый пароль"), validators=[DataRequired(), Length(min=8, max=200)])
    again = PasswordField(_l("Ещё раз"), validators=[DataRequired(), Length(max=200)])


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    """«Забыли пароль?»: the same answer whether or not the address has an account; the
    attempts count against the sign-in limits, so the page cannot be used to spam."""
    form = ForgotForm()
    if form.validate_on_submit():
        email, address, now = form.email.data.strip().lower(), request.remote_addr, utcnow()
        with work() as db:
            if refused(db, _login_limits(), email, address, now):
                abort(429)
            record_failure(db, email, address, now)  # a request, counted like a failed try
            user = user_by_email(db, email)
            if user is not None:
                send_logged_link(db, user.login, user, RESET, application().settings.public_url)
        flash(
            _(
                "Если этот адрес есть в системе, на него отправлена ссылка для нового пароля. "
                "Она действует два часа."
            ),
            "success",
        )
        return redirect(url_for("auth.login"), code=303)
    return render_template("forgot.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):  # type: ignore[no-untyped-def]
    """The page a one-time link opens: set a password, then sign in with it."""
    token = token[:100]
    with work(readonly=True) as db:
        status = link_status(db, token)
    if status != "ok":
        return render_template("link_spent.html", status=status), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.again.data:
            flash(_("Пароли не совпадают."), "error")
        else:
            try:
                with work() as db:
                    user = set_password_by_link(db, token, form.new.data)
                    log_change(db, user.login, user, "password_set", None, None)
                    login = user.login
            except ValidationError as error:
                if error.reason == "link_spent":  # used or expired in the meantime
                    return render_template("link_spent.html", status="used"), 410
                flash(russian(error), "error")  # too weak: try another
            else:
                flash(_("Пароль задан. Войдите с ним: логин %(login)s.", login=login), "success")
                return redirect(url_for("auth.login"), code=303)
    return render_template("set_password.html", form=form)
