"""Users and their passwords (hashed with werkzeug's scrypt; never stored in clear)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from engine.errors import NotFoundError, ValidationError
from engine.models import ApiToken, Role, User, utcnow

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)


#: zxcvbn's score (0–4) a new password must reach: 3 is "safely unguessable" online.
MIN_STRENGTH = 3


def check_strength(password: str, *hints: str | None) -> None:
    """ValidationError (weak_password) unless `password` is long enough and hard to guess,
    also for someone who knows the person's login, name and e-mail (`hints`)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", reason="weak_password"
        )
    inputs = [part for hint in hints if hint for part in re.split(r"[\s@.,]+", hint) if part]
    result = zxcvbn(password[:100], user_inputs=inputs)  # the cost grows with the length
    if result["score"] < MIN_STRENGTH:
        warning = result["feedback"].get("warning") or "easy to guess"
        raise ValidationError(f"the password is too weak: {warning}", reason="weak_password")


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
    check_strength(new, user.login, user.full_name, user.email)
    session.execute(update(User).where(User.id == user_id).values(password_hash=hash_password(new)))
    rotate_session_token(session, user_id)
    revoke_tokens(session, user_id)  # a leaked password may have minted them


def deactivate_user(session: Session, user_id: int) -> None:
    """Take a user out: no sign-in, every session and every API token ends."""
    session.execute(update(User).where(User.id == user_id).values(is_active=False))
    rotate_session_token(session, user_id)
    revoke_tokens(session, user_id)


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


#: How long a token lives unless its issuer says otherwise.
TOKEN_DAYS = 90
#: A token's last use is written at most this often, so reading the API stays a read.
LAST_USED_EVERY = timedelta(hours=1)


def issue_api_token(session: Session, user_id: int, name: str, *, days: int = TOKEN_DAYS) -> str:
    """A new bearer token for `user_id`; the plain token is returned once and never stored."""
    if not 1 <= days <= 366:
        raise ValidationError("a token lives from 1 to 366 days")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiToken(
            user_id=user_id,
            token_hash=_token_hash(token),
            name=name[:100],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class TokenUse:
    """Who a live token acts for, and whether its last use is due to be written."""

    user: User
    token_id: int
    last_used_at: datetime | None

    def stale(self, now: datetime) -> bool:
        """Its last use is older than LAST_USED_EVERY (or never written)."""
        return self.last_used_at is None or self.last_used_at < now - LAST_USED_EVERY


def user_for_token(session: Session, token: str, now: datetime | None = None) -> TokenUse | None:
    """The active user a live (unrevoked, unexpired) token belongs to; or None."""
    now = now or utcnow()
    row = session.execute(
        select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _token_hash(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.is_active.is_(True),
        )
    ).first()
    return TokenUse(row[0], row[1], row[2]) if row else None


def note_token_use(session: Session, token_id: int, now: datetime | None = None) -> None:
    """Remember that a token was used, at most once per LAST_USED_EVERY (one UPDATE)."""
    now = now or utcnow()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
    )


@dataclass(frozen=True)
class TokenInfo:
    """A token as its owner and operators see it: never the secret."""

    id: int
    login: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(session: Session, user_id: int | None = None) -> list[TokenInfo]:
    """Tokens, newest first: one user's, or everyone's."""
    query = (
        select(
            ApiToken.id,
            User.login,
            ApiToken.name,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
        )
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id.desc())
    )
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [TokenInfo(*row) for row in session.execute(query)]


def revoke_token(
    session: Session, token_id: int, *, user_id: int | None = None, now: datetime | None = None
) -> None:
    """Revoke one token (only `user_id`'s own when given); NotFoundError otherwise."""
    where = [ApiToken.id == token_id, ApiToken.revoked_at.is_(None)]
    if user_id is not None:
        where.append(ApiToken.user_id == user_id)
    done = session.execute(update(ApiToken).where(*where).values(revoked_at=now or utcnow()))
    if done.rowcount != 1:
        raise NotFoundError(f"no live token {token_id}")


def revoke_tokens(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Revoke every live token of a user; how many."""
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(done.rowcount or 0)


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


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def update_profile(session: Session, user_id: int, full_name: str, email: str) -> dict[str, Any]:
    """Change one's own name and e-mail; the fields that changed, with before and after."""
    full_name, email = " ".join(full_name.split()), email.strip().lower()
    if not 0 < len(full_name) <= 300:
        raise ValidationError("the name is empty or longer than 300 characters")
    if not _EMAIL.match(email) or len(email) > 300:
        raise ValidationError(f"{email!r} is not an e-mail address", reason="email_invalid")
    taken = session.execute(
        select(User.id).where(User.email == email, User.id != user_id, User.is_active.is_(True))
    ).first()
    if taken is not None:
        raise ValidationError(f"{email} belongs to another account", reason="email_taken")
    user = session.get(User, user_id)
    if user is None:
        raise ValidationError("no such user")
    changed = {
        name: (getattr(user, name), value)
        for name, value in (("full_name", full_name), ("email", email))
        if getattr(user, name) != value
    }
    user.full_name, user.email = full_name, email
    session.flush()
    return changed
