"""Taking a person out on behalf of someone: the checks that the web and the API share."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from engine.accounts.access import Actor, require_manage, require_reach
from engine.directory.people import take_out
from engine.errors import NotFoundError, ValidationError
from engine.models import User
from engine.readmodels.directory import person_card


def take_out_as(
    session: Session, actor: Actor, user_id: int, handover: int | Mapping[int, int] | None
) -> list[int]:
    """Deactivate a person of `actor`'s territory who ranks below them; each school the
    person curates (all inside the territory) goes to a successor `actor` can choose:
    `handover` names one for all, or one per school. The schools moved."""
    card = person_card(session, actor, user_id)  # in scope, or NotFoundError
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFoundError(f"active person {user_id}")
    require_manage(actor, user.role, "people")
    if user.id == actor.id:
        raise ValidationError("one cannot deactivate oneself", reason="not_yourself")
    chosen: dict[int, User] = {}
    for school_id, _name in card.schools:
        require_reach(session, actor, school_id, f"school {school_id}")
        wanted = handover.get(school_id) if isinstance(handover, Mapping) else handover
        successor = next((c for c in card.successors[school_id] if c.id == wanted), None)
        if successor is not None:
            chosen[school_id] = session.get(User, successor.id)  # type: ignore[assignment]
    return take_out(session, actor.login, user, chosen)
