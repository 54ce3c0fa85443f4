"""The escalation board: what a coordinator sees to acknowledge, extend or hand on."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.app import App
from engine.errors import DomainError
from engine.escalation.board import acknowledge
from engine.models import Role
from engine.readmodels.common import Page
from engine.readmodels.escalations import BoardFilter, board_page
from engine.readmodels.roadmaps import assignment_targets


@dataclass(frozen=True)
class Board:
    """A page of the escalations of the actor's territory, and whom work may go to."""

    page: Page
    #: By the organization that has the work: whom it may be handed to.
    targets: dict[int, list[tuple[int, str]]]


def escalation_board(
    app: App,
    session: Session,
    actor: Actor,
    *,
    narrow: BoardFilter | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Board:
    """A municipal coordinator sees their municipality; the region's people see all of it."""
    rows = board_page(
        session,
        app.policies,
        municipality_id=_municipality(actor),
        narrow=narrow,
        page=page,
        per_page=per_page,
    )
    return Board(rows, assignment_targets(session, actor, {row.school_id for row in rows.rows}))


def waiting(app: App, session: Session, actor: Actor, narrow: BoardFilter) -> int:
    """How many escalations on the actor's board wait for a decision."""
    return board_page(
        session, app.policies, municipality_id=_municipality(actor), narrow=narrow, per_page=1
    ).total


def _municipality(actor: Actor) -> int | None:
    return actor.organization_id if actor.role == Role.MUNICIPAL_COORDINATOR else None


@dataclass
class BulkAcknowledged:
    """What a bulk acknowledgement did."""

    done: int = 0
    refused: list[tuple[int, DomainError]] = field(default_factory=list)


def acknowledge_many(
    app: App, actor: Actor, escalation_ids: list[int], comment: str
) -> BulkAcknowledged:
    """Acknowledge each escalation with one comment, each in its own transaction."""
    result = BulkAcknowledged()
    for escalation_id in escalation_ids:
        try:
            with app.work() as session:
                acknowledge(session, actor, escalation_id, comment, now=app.clock())
            result.done += 1
        except DomainError as error:
            result.refused.append((escalation_id, error))
    return result
