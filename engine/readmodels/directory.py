"""Looking organizations up by what people type, and the list of people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlmodel import Session

from engine.errors import NotFoundError, ValidationError
from engine.models import Organization, User


def find_school(session: Session, text: str) -> int:
    """The id of the school named by id or by a unique fragment of its name."""
    base = select(Organization.id, Organization.name).where(Organization.kind == "school")
    if text.isdigit():
        found = session.execute(base.where(Organization.id == int(text))).all()
    else:
        found = session.execute(base.where(Organization.name.ilike(f"%{text}%"))).all()
    if not found:
        raise NotFoundError(f"no school matches '{text}'")
    if len(found) > 1:
        names = "; ".join(row.name for row in found[:5])
        raise ValidationError(f"'{text}' matches {len(found)} schools ({names}); be more precise")
    return found[0].id


@dataclass(frozen=True)
class PersonRow:
    id: int
    login: str
    full_name: str
    email: str | None
    role: str
    organization: str | None
    is_active: bool


def people_page(
    session: Session, role: str | None, search: str | None, limit: int, offset: int
) -> tuple[int, list[PersonRow]]:
    """People by name, filtered by role and a search text, one page (indexed, counted once)."""
    query = select(User.id).outerjoin(Organization, Organization.id == User.organization_id)
    if role:
        query = query.where(User.role == role)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.full_name).like(pattern),
                func.lower(User.login).like(pattern),
                func.lower(User.email).like(pattern),
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.with_only_columns(
            User.id,
            User.login,
            User.full_name,
            User.email,
            User.role,
            Organization.name,
            User.is_active,
        )
        .order_by(User.full_name, User.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total, [PersonRow(*row) for row in rows]
