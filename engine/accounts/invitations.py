"""One-time links to set a password: an invitation for a new person, a reset for a forgotten
password. The link carries a random token; only its SHA-256 is stored. A link works once,
until it expires; a new link ends the person's older ones. The mail goes through the outbox.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from engine.accounts.audit import log_change
from engine.accounts.users import (
    check_strength,
    hash_password,
    revoke_tokens,
    rotate_session_token,
)
from engine.errors import ValidationError
from engine.models import Invitation, Notification, User, utcnow

INVITATION_HOURS = 72
RESET_HOURS = 2
INVITATION, RESET = "invitation", "reset"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_link(
    session: Session,
    user: User,
    purpose: str,
    base_url: str,
    *,
    hours: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new link for `user` (their older ones end), mailed through the outbox; the token."""
    return send_links(session, [user], purpose, base_url, hours=hours, now=now)[0]


def send_logged_link(
    session: Session, actor_login: str, user: User, purpose: str, base_url: str
) -> str:
    """`send_link`, with its row in the administrative log."""
    token = send_link(session, user, purpose, base_url)
    action = "invite_sent" if purpose == INVITATION else "reset_sent"
    log_change(session, actor_login, user, action, None, {"email": user.email})
    return token


def send_links(
    session: Session,
    users: list[Any],  # User rows, or rows with their id and login
    purpose: str,
    base_url: str,
    *,
    hours: int | None = None,
    now: datetime | None = None,
) -> list[str]:
    """`send_link` for many people at once (an import): a few statements, not a few each."""
    now = now or utcnow()
    hours = hours or (INVITATION_HOURS if purpose == INVITATION else RESET_HOURS)
    session.execute(
        update(Invitation)
        .where(Invitation.user_id.in_([u.id for u in users]), Invitation.used_at.is_(None))
        .values(expires_at=now)
    )
    tokens = [secrets.token_urlsafe(32) for _ in users]
    expires = now + timedelta(hours=hours)
    hashes = [_hash(token) for token in tokens]
    if not users:
        return tokens
    # Core executemany, not the ORM: no ids are needed back, so no RETURNING round trips
    session.execute(
        insert(Invitation),
        [
            {
                "user_id": u.id,
                "token_hash": h,
                "purpose": purpose,
                "created_at": now,
                "expires_at": expires,
            }  # fmt: skip
            for u, h in zip(users, hashes, strict=True)
        ],
    )
    session.execute(
        insert(Notification),
        [
            _mail(user, purpose, token, token_hash, expires, now, base_url)
            for user, token, token_hash in zip(users, tokens, hashes, strict=True)
        ],
    )
    return tokens


def _mail(
    user: Any,
    purpose: str,
    token: str,
    token_hash: str,
    expires: datetime,
    now: datetime,
    base_url: str,
) -> dict[str, Any]:
    """The outbox row of one link (the key names the link, never the token)."""
    link = f"{base_url.rstrip('/')}/password/set/{token}"
    until = f"{expires:%d.%m.%Y %H:%M} UTC"
    if purpose == INVITATION:
        subject = "Приглашение в Roadmap Engine"
        lines = [
            "Для вас создана учётная запись в Roadmap Engine.",
            f"Логин: {user.login}",
            f"Задайте пароль по ссылке (она действует один раз, до {until}):",
        ]
    else:
        subject = "Сброс пароля Roadmap Engine"
        lines = [
            "Кто-то (возможно, вы) попросил сбросить пароль.",
            f"Задайте новый пароль по ссылке (она действует один раз, до {until}).",
            "Если вы не просили, ничего не делайте: пароль останется прежним.",
        ]
    return {
        "key": f"{purpose}:{token_hash[:40]}",
        "user_id": user.id,
        "kind": purpose,
        "payload": {"subject": subject, "lines": lines, "link": link},
        "created_at": now,
        "read_at": now,  # a mail, not an item of the inbox
        "email_attempts": 0,
    }


def link_status(session: Session, token: str, now: datetime | None = None) -> str:
    """ "ok", "used", "expired" or "unknown"."""
    found = session.execute(
        select(Invitation.used_at, Invitation.expires_at).where(
            Invitation.token_hash == _hash(token)
        )
    ).first()
    if found is None:
        return "unknown"
    if found.used_at is not None:
        return "used"
    return "ok" if found.expires_at > (now or utcnow()) else "expired"


def set_password_by_link(
    session: Session, token: str, password: str, now: datetime | None = None
) -> User:
    """Use the link once: the password is set, the link is spent, older sessions end."""
    now = now or utcnow()
    owner = session.execute(
        select(User)
        .join(Invitation, Invitation.user_id == User.id)
        .where(Invitation.token_hash == _hash(token))
    ).scalar()
    if owner is not None:
        check_strength(password, owner.login, owner.full_name, owner.email)
    password_hash = hash_password(password)
    spent = session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _hash(token),
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .returning(Invitation.user_id)
    ).first()
    if spent is None:
        raise ValidationError(
            f"the link is {link_status(session, token, now)}", reason="link_spent"
        )
    user = session.get(User, spent.user_id)
    if user is None or not user.is_active:
        raise ValidationError("the account is not active", reason="link_spent")
    user.password_hash = password_hash
    session.flush()
    rotate_session_token(session, user.id)
    revoke_tokens(session, user.id)
    return user


def user_by_email(session: Session, email: str) -> User | None:
    """The one active user with this e-mail, or None (also when two share it)."""
    found = list(
        session.execute(
            select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))
        ).scalars()
    )
    return found[0] if len(found) == 1 else None
