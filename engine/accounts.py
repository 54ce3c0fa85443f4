"""Users and their passwords (hashed with werkzeug's scrypt; never stored in clear)."""

from __future__ import annotations

from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import ValidationError
from engine.models import Role, User

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
