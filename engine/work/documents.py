"""School documents under curator review: self-diagnostic, concept documents, programmes."""

from __future__ import annotations

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.errors import PermissionDeniedError, ValidationError
from engine.lifecycle.definition import SubjectKind, WorkflowRegistry
from engine.models import Document, DocumentKind, Role, utcnow

#: How the kinds read in Russian.
KIND_NAMES = {
    DocumentKind.SELF_DIAGNOSTIC: "Самодиагностика",
    DocumentKind.SCHOOL_ROADMAP: "Дорожная карта школы",
    DocumentKind.DEVELOPMENT_CONCEPT: "Концепция развития",
    DocumentKind.MIDTERM_PROGRAMME: "Среднесрочная программа развития",
    DocumentKind.ANTIRISK_PROGRAMME: "Антирисковая программа",
}


def create_document(
    session: Session, registry: WorkflowRegistry, actor: Actor, kind: str, title: str
) -> Document:
    """A new draft document of the actor's own school, in the caller's transaction."""
    if actor.role != Role.SCHOOL or actor.organization_id is None:
        raise PermissionDeniedError(
            "only a school's staff create its documents", reason="school_creates_documents"
        )
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationError(f"unknown document kind '{kind}'")
    title = (title or "").strip() or KIND_NAMES[DocumentKind(kind)]
    definition = registry.for_subject(SubjectKind.DOCUMENT).definition
    now = utcnow()
    document = Document(
        school_id=actor.organization_id,
        kind=kind,
        title=title[:500],
        state=definition.initial,
        workflow_name=definition.name,
        workflow_version=definition.version,
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    session.add(document)
    session.flush()
    return document
