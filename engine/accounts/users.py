"""Users and their passwords (hashed with werkzeug's scrypt; never stored in clear)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import ValidationError
from engine.models import ApiToken, Role, User, utcnow

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)


def verify_password(user: User, password: str) -> bool:
    """Whether `password` matches the user's stored hash."""
    return check_password_hash(user.password_hash, password)


def create_user(
    session: Session,
    *,
    login: str,
    full_name: str,
    role: Role,
    password_hash: str,
    organization_id: int | None = None,
    email: str | None = None,
) -> User:
    """Add a user in the caller's transaction; `password_hash` comes from `hash_password`."""
    user = User(
        login=login,
        full_name=full_name,
        role=role,
        password_hash=password_hash,
        organization_id=organization_id,
        email=email,
    )
    session.add(user)
    session.flush()
    return user


def rotate_session_token(session: Session, user_id: int) -> str:
    """End every signed-in session of a user (sign-out, password change)."""
    token = secrets.token_hex(16)
    session.execute(update(User).where(User.id == user_id).values(session_token=token))
    return token


def change_password(session: Session, user_id: int, old: str, new: str) -> None:
    """Change a user's password after checking the old one; every session ends."""
    user = session.get(User, user_id)
    if user is None or not verify_password(user, old):
        raise ValidationError("the current password is wrong")
    session.execute(update(User).where(User.id == user_id).values(password_hash=hash_password(new)))
    rotate_session_token(session, user_id)


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The active user with this login and password, or None (same answer for both faults)."""
    user = (
        session.execute(select(User).where(User.login == login, User.is_active.is_(True)))
        .scalars()
        .first()
    )
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same time whether or not the login exists
        return None
    return user if verify_password(user, password) else None


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def issue_api_token(session: Session, user_id: int, name: str) -> str:
    """A new bearer token for `user_id`; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user_id, token_hash=_token_hash(token), name=name[:100], created_at=utcnow()
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    return (
        session.execute(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_hash == _token_hash(token),
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        )
        .scalars()
        .first()
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: The time zones of Russia, as people choose them.
RUSSIAN_TIMEZONES = {
    "Europe/Kaliningrad": "Калининград (МСК−1)",
    "Europe/Moscow": "Москва (МСК)",
    "Europe/Samara": "Самара (МСК+1)",
    "Asia/Yekaterinburg": "Екатеринбург (МСК+2)",
    "Asia/Omsk": "Омск (МСК+3)",
    "Asia/Krasnoyarsk": "Красноярск (МСК+4)",
    "Asia/Irkutsk": "Иркутск (МСК+5)",
    "Asia/Yakutsk": "Якутск (МСК+6)",
    "Asia/Vladivostok": "Владивосток (МСК+7)",
    "Asia/Magadan": "Магадан (МСК+8)",
    "Asia/Kamchatka": "Камчатка (МСК+9)",
}


def set_timezone(session: Session, user_id: int, timezone: str | None) -> None:
    """A user's own time zone for pages (None: the product's default)."""
    if timezone is not None and timezone not in RUSSIAN_TIMEZONES:
        raise ValidationError(f"unknown time zone '{timezone}'")
    session.execute(update(User).where(User.id == user_id).values(timezone=timezone))


_SIGNED_IN = select(
    User.id,
    User.login,
    User.full_name,
    User.role,
    User.organization_id,
    User.session_token,
    User.timezone,
).where(User.id == bindparam("user_id"), User.is_active.is_(True))


def signed_in_user(connection: Connection, user_id: int, token: str) -> Row[Any] | None:
    """The active user `user_id`, if `token` is still their session token (one statement)."""
    row = connection.execute(_SIGNED_IN, {"user_id": user_id}).one_or_none()
    if row is None or not hmac.compare_digest(row.session_token, token):
        return None  # signed out, or the password changed: the old cookie is dead
    return row
