"""The escalation board: what a coordinator sees to acknowledge, extend or hand on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.app import App
from engine.escalation.board import OpenEscalation, open_escalations
from engine.models import Role
from engine.readmodels.roadmaps import assignment_targets


@dataclass(frozen=True)
class Board:
    """Open escalations of the actor's territory, and whom unfinished work may go to."""

    rows: list[OpenEscalation]
    targets: list[tuple[int, str]]


def escalation_board(
    app: App, session: Session, actor: Actor, *, level: int | None = None, limit: int = 200
) -> Board:
    """A municipal coordinator sees their municipality; the region's people see all of it."""
    municipality = actor.organization_id if actor.role == Role.MUNICIPAL_COORDINATOR else None
    rows = open_escalations(
        session, app.policies, municipality_id=municipality, level=level, limit=limit
    )
    targets = assignment_targets(session, actor)
    return Board(rows, targets)
