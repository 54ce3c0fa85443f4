"""Looking organizations up by what people type."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from engine.errors import NotFoundError, ValidationError
from engine.models import (
    Organization,
)


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
