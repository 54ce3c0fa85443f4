"""A coordinator imports a roadmap document into their own municipality."""

from __future__ import annotations

from sqlmodel import Session

from engine.accounts.access import Actor, Power, require_power
from engine.app import App
from engine.errors import PermissionDeniedError
from engine.importing.apply import ImportReport, import_roadmap
from engine.importing.structure import RoadmapDraft
from engine.models import Organization, OrganizationKind


def import_into_own_municipality(
    app: App, session: Session, actor: Actor, draft: RoadmapDraft
) -> ImportReport:
    """Write `draft` as a roadmap of the actor's municipality, in the caller's transaction."""
    require_power(actor, Power.IMPORT, "roadmaps")
    municipality = (
        session.get(Organization, actor.organization_id) if actor.organization_id else None
    )
    if municipality is None or municipality.kind != OrganizationKind.MUNICIPALITY:
        raise PermissionDeniedError(
            f"{actor.login} belongs to no municipality to import a roadmap into"
        )
    return import_roadmap(session, app.registry, draft, municipality)
