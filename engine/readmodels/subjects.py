"""One occurrence or document as its page shows it: files, reports, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach, scope_clause
from engine.errors import NotFoundError, PermissionDeniedError
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import load_subject
from engine.lifecycle.kinds import SUBJECTS, kind_of, subject_id_of
from engine.lifecycle.statements import LINK_COLUMN
from engine.models import (
    Activity,
    Comment,
    CommentKind,
    Document,
    Evidence,
    Occurrence,
    Organization,
    Roadmap,
    Section,
    TransitionLog,
    User,
)
from engine.readmodels.common import Page


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence file as listed on a page."""

    id: int
    name: str
    size_bytes: int
    content_type: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


@dataclass(frozen=True)
class CommentItem:
    """A written report or remark."""

    author: str
    kind: str
    body: str
    created_at: datetime

    @property
    def is_report(self) -> bool:
        """A written report, not a remark."""
        return self.kind == CommentKind.REPORT


@dataclass
class OccurrenceDetail:
    """Everything the occurrence page shows."""

    id: int
    version: int
    state: str
    workflow_name: str
    workflow_version: int
    due_on: date | None
    escalation_level: int
    arrived_as_history: bool
    assignee_id: int
    assignee: str
    roadmap: str
    roadmap_id: int
    section: str | None
    number: str
    title: str
    description: str | None
    deadline_text: str
    responsible_text: str | None
    planned_result: str | None
    report_form: str | None
    evidence: list[EvidenceItem] = field(default_factory=list)
    comments: list[CommentItem] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


def occurrence_detail(session: Session, actor: Actor, occurrence_id: int) -> OccurrenceDetail:
    """One occurrence with its activity, evidence, reports and history, for its tenant only."""
    ref = load_subject(session, SubjectKind.OCCURRENCE, occurrence_id)
    require_reach(session, actor, ref.owner_id, f"occurrence {occurrence_id}")
    row = session.execute(
        select(Occurrence, Activity, Roadmap.title, Section.title, Organization.name)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(Roadmap, Roadmap.id == Activity.roadmap_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .join(Organization, Organization.id == Occurrence.assignee_id)
        .where(Occurrence.id == occurrence_id)
    ).one()
    occ, activity = row[0], row[1]
    detail = OccurrenceDetail(
        id=occ.id,
        version=occ.version,
        state=occ.state,
        workflow_name=occ.workflow_name,
        workflow_version=occ.workflow_version,
        due_on=occ.due_on,
        escalation_level=occ.escalation_level,
        arrived_as_history=occ.history,
        assignee_id=occ.assignee_id,
        assignee=row[4],
        roadmap=row[2],
        roadmap_id=activity.roadmap_id,
        section=row[3],
        number=activity.number,
        title=activity.title,
        description=activity.description,
        deadline_text=activity.deadline_text,
        responsible_text=activity.responsible_text,
        planned_result=activity.planned_result,
        report_form=activity.report_form,
    )
    detail.evidence = evidence_list(session, SubjectKind.OCCURRENCE, occurrence_id)
    detail.comments = comment_list(session, SubjectKind.OCCURRENCE, occurrence_id)
    detail.history = history(session, actor, SubjectKind.OCCURRENCE, occurrence_id)
    return detail


def comment_list(session: Session, kind: SubjectKind, subject_id: int) -> list[CommentItem]:
    """The written reports and remarks of one subject, oldest first (tenant checked)."""
    return [
        CommentItem(*r)
        for r in session.execute(
            select(User.full_name, Comment.kind, Comment.body, Comment.created_at)
            .join(User, User.id == Comment.author_id)
            .where(SUBJECTS[kind].linked(Comment) == subject_id)
            .order_by(Comment.id)
        )
    ]


def evidence_list(session: Session, kind: SubjectKind, subject_id: int) -> list[EvidenceItem]:
    """The files of one subject, oldest first (the caller has checked the tenant)."""
    link = SUBJECTS[kind].linked(Evidence)
    return [
        EvidenceItem(*r)
        for r in session.execute(
            select(
                Evidence.id,
                Evidence.original_name,
                Evidence.size_bytes,
                Evidence.content_type,
                Evidence.sha256,
                Evidence.uploaded_at,
                User.full_name,
            )
            .join(User, User.id == Evidence.uploaded_by)
            .where(link == subject_id)
            .order_by(Evidence.id)
        )
    ]


def evidence_for_download(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    """An evidence row the actor may download: its subject lies inside their tenant.

    Outsiders get NotFoundError, the same answer as for an id that does not exist.
    """
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFoundError(f"file {evidence_id} does not exist")
    ref = load_subject(session, kind_of(evidence), subject_id_of(evidence))
    try:
        require_reach(session, actor, ref.owner_id, f"file {evidence_id}")
    except PermissionDeniedError:
        raise NotFoundError(f"file {evidence_id} does not exist") from None
    return evidence


@dataclass(frozen=True)
class DocumentRow:
    """One school document in a list."""

    id: int
    school: str
    kind: str
    title: str
    state: str
    updated_at: datetime


def documents(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page:
    """The documents visible to `actor`, most recently changed first."""
    where = scope_clause(actor, Document.school_id)
    total = session.execute(select(func.count()).select_from(Document).where(where)).scalar_one()
    rows = session.execute(
        select(
            Document.id,
            Organization.name,
            Document.kind,
            Document.title,
            Document.state,
            Document.updated_at,
        )
        .join(Organization, Organization.id == Document.school_id)
        .where(where)
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([DocumentRow(*r) for r in rows], total, page, per_page)


@dataclass
class DocumentDetail:
    """Everything the document page shows."""

    id: int
    school_id: int
    school: str
    kind: str
    title: str
    state: str
    workflow_name: str
    workflow_version: int
    evidence: list[EvidenceItem]
    history: list[HistoryEntry]


def document_detail(session: Session, actor: Actor, document_id: int) -> DocumentDetail:
    """One document with its files and history, for its tenant only."""
    ref = load_subject(session, SubjectKind.DOCUMENT, document_id)
    require_reach(session, actor, ref.owner_id, f"document {document_id}")
    doc, school = session.execute(
        select(Document, Organization.name)
        .join(Organization, Organization.id == Document.school_id)
        .where(Document.id == document_id)
    ).one()
    return DocumentDetail(
        doc.id,
        doc.school_id,
        school,
        doc.kind,
        doc.title,
        doc.state,
        doc.workflow_name,
        doc.workflow_version,
        evidence_list(session, SubjectKind.DOCUMENT, document_id),
        history(session, actor, SubjectKind.DOCUMENT, document_id),
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One transition of a subject, as people read it."""

    at: datetime
    actor_login: str
    actor_name: str
    trigger: str
    from_state: str
    to_state: str
    comment: str | None


def history(
    session: Session, actor: Actor, kind: SubjectKind, subject_id: int
) -> list[HistoryEntry]:
    """Every transition of one subject visible to `actor`, oldest first."""
    ref = load_subject(session, kind, subject_id)
    require_reach(session, actor, ref.owner_id, f"{kind} {subject_id}")
    link = getattr(TransitionLog, LINK_COLUMN[kind])
    rows = session.execute(
        select(
            TransitionLog.at,
            User.login,
            User.full_name,
            TransitionLog.trigger,
            TransitionLog.from_state,
            TransitionLog.to_state,
            TransitionLog.comment,
        )
        .join(User, User.id == TransitionLog.actor_id)
        .where(link == subject_id)
        .order_by(TransitionLog.id)
    )
    return [HistoryEntry(*row) for row in rows]
