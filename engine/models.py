"""Tables of the domain, named after ../shared/GLOSSARY.md."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, aware and in UTC."""
    return datetime.now(UTC)


class OrganizationKind(StrEnum):
    """Levels of the hierarchy region → municipality → school."""

    REGION = "region"
    MUNICIPALITY = "municipality"
    SCHOOL = "school"


class Role(StrEnum):
    """What a user is in the programme; decides which triggers they may fire."""

    SCHOOL = "school"
    CURATOR = "curator"
    MUNICIPAL_COORDINATOR = "municipal_coordinator"
    REGIONAL_COORDINATOR = "regional_coordinator"
    ADMIN = "admin"


class RoadmapLevel(StrEnum):
    """Who owns a roadmap."""

    REGIONAL = "regional"
    MUNICIPAL = "municipal"
    SCHOOL = "school"


class RoadmapStatus(StrEnum):
    """A roadmap's own status."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class DocumentKind(StrEnum):
    """Documents a school submits for its curator's review."""

    SELF_DIAGNOSTIC = "self_diagnostic"
    SCHOOL_ROADMAP = "school_roadmap"
    DEVELOPMENT_CONCEPT = "development_concept"
    MIDTERM_PROGRAMME = "midterm_programme"
    ANTIRISK_PROGRAMME = "antirisk_programme"


class CommentKind(StrEnum):
    """A free remark, or the written report that counts as evidence."""

    COMMENT = "comment"
    REPORT = "report"


class Organization(SQLModel, table=True):
    """A region, a municipality (education department) or a school."""

    __table_args__ = (
        Index("ix_organization_parent", "parent_id"),
        CheckConstraint("kind IN ('region', 'municipality', 'school')", name="organization_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))
    name: str = Field(sa_type=String(300))
    parent_id: int | None = Field(default=None, foreign_key="organization.id")
    #: What the ministry's directory says of a school (the ИНН is what re-imports match on).
    short_name: str | None = Field(default=None, sa_type=String(200))
    inn: str | None = Field(default=None, sa_type=String(12), unique=True)
    email: str | None = Field(default=None, sa_type=String(300))
    programme: str | None = Field(default=None, sa_type=String(32))
    programme_year: int | None = None
    #: Set by hand when a school leaves the directory; nothing is ever deleted.
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """A person who signs in; `organization_id` binds school staff and coordinators."""

    __tablename__ = "app_user"
    __table_args__ = (
        Index("ix_app_user_organization", "organization_id"),
        Index("ix_app_user_email", "email"),
        Index("ix_app_user_role_name", "role", "full_name", "id"),  # the people list's order
    )

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(sa_type=String(100), unique=True)
    full_name: str = Field(sa_type=String(300))
    email: str | None = Field(default=None, sa_type=String(300))
    password_hash: str = Field(sa_type=String(300))
    role: str = Field(sa_type=String(32))
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: Part of the signed-in cookie; rotating it (sign-out, new password) ends every session.
    session_token: str = Field(default_factory=lambda: secrets.token_hex(16), sa_type=String(64))
    #: The user's own time zone for dates and times on pages (None: the product's default).
    timezone: str | None = Field(default=None, sa_type=String(64))


class CuratorAssignment(SQLModel, table=True):
    """A curator assigned by order to one school."""

    __tablename__ = "curator_school"
    __table_args__ = (Index("ix_curator_school_school", "school_id"),)

    curator_id: int = Field(foreign_key="app_user.id", primary_key=True)
    school_id: int = Field(foreign_key="organization.id", primary_key=True)


class Roadmap(SQLModel, table=True):
    """An approved plan of sections and activities."""

    __table_args__ = (Index("ix_roadmap_owner", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=Text)
    level: str = Field(sa_type=String(16))
    owner_id: int = Field(foreign_key="organization.id")
    period_start: date
    period_end: date
    order_number: str | None = Field(default=None, sa_type=String(100))
    order_date: date | None = None
    status: str = Field(default=RoadmapStatus.DRAFT, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoadmapParticipant(SQLModel, table=True):
    """A school that executes the school-level activities of a roadmap."""

    __tablename__ = "roadmap_participant"
    __table_args__ = (Index("ix_roadmap_participant_school", "school_id"),)

    roadmap_id: int = Field(foreign_key="roadmap.id", primary_key=True)
    school_id: int = Field(foreign_key="organization.id", primary_key=True)


class Section(SQLModel, table=True):
    """A numbered group of activities, optionally inside a part ("Приложение №2")."""

    __table_args__ = (Index("ix_section_roadmap", "roadmap_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    roadmap_id: int = Field(foreign_key="roadmap.id")
    part: str | None = Field(default=None, sa_type=String(200))
    number: str | None = Field(default=None, sa_type=String(20))
    title: str = Field(sa_type=Text)
    position: int = 0


class Activity(SQLModel, table=True):
    """One row of a roadmap; the raw deadline text is always kept beside its schedule."""

    __table_args__ = (
        Index("ix_activity_roadmap", "roadmap_id", "position"),
        Index("ix_activity_section", "section_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    roadmap_id: int = Field(foreign_key="roadmap.id")
    section_id: int | None = Field(default=None, foreign_key="section.id")
    part: str | None = Field(default=None, sa_type=String(200))
    number: str = Field(sa_type=String(20))
    title: str = Field(sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    level: str | None = Field(default=None, sa_type=String(32))
    deadline_text: str = Field(default="", sa_type=Text)
    schedule: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    responsible_text: str | None = Field(default=None, sa_type=Text)
    planned_result: str | None = Field(default=None, sa_type=Text)
    report_form: str | None = Field(default=None, sa_type=Text)
    position: int = 0


class IndicatorDirection(StrEnum):
    """Which way an indicator's actual value must go to meet its target."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EXACTLY = "exactly"
    INCREASE_BY = "increase_by"
    DECREASE_BY = "decrease_by"


class IndicatorScope(StrEnum):
    """Whose value an indicator is: the municipality's as a whole, or each school's."""

    MUNICIPALITY = "municipality"
    SCHOOL = "school"


class Indicator(SQLModel, table=True):
    """A target indicator of a roadmap, from its list or from an activity's planned result;
    the text it was read from is always kept."""

    __table_args__ = (
        Index("ix_indicator_roadmap", "roadmap_id", "position"),
        Index("ix_indicator_activity", "activity_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    roadmap_id: int = Field(foreign_key="roadmap.id")
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    number: str | None = Field(default=None, sa_type=String(20))
    title: str = Field(sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    target_value: float | None = None
    unit: str | None = Field(default=None, sa_type=String(16))
    direction: str | None = Field(default=None, sa_type=String(16))
    baseline: float | None = None
    due: list[str] = Field(default_factory=list, sa_type=JSONType)
    due_text: str | None = Field(default=None, sa_type=Text)
    scope: str = Field(default=IndicatorScope.MUNICIPALITY, sa_type=String(16))
    position: int = 0


class Occurrence(SQLModel, table=True):
    """One activity for one assignee and one due date: the unit that moves through a lifecycle."""

    __table_args__ = (
        Index("ix_occurrence_state_due", "state", "due_on"),
        Index("ix_occurrence_assignee_state", "assignee_id", "state", "due_on"),
        Index("ix_occurrence_escalation", "state", "escalation_level", "due_on"),
        Index("ix_occurrence_state_changed", "state", "state_changed_at"),
        UniqueConstraint("activity_id", "assignee_id", "due_on", name="uq_occurrence_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id")
    assignee_id: int = Field(foreign_key="organization.id")
    due_on: date | None = None
    #: True when `due_on` comes from the activity's schedule; False for on-demand work,
    #: even after a coordinator has dated it, so a re-import leaves it alone.
    scheduled: bool = True
    #: The date the schedule gave, which `due_on` leaves when it is extended or moved on
    #: arrival; a re-import matches the schedule against it.
    scheduled_on: date | None = None
    #: Bumped by every deadline extension: escalations of an earlier due date are a past cycle.
    due_revision: int = 0
    state: str = Field(sa_type=String(32))
    version: int = 1
    escalation_level: int = 0
    #: A coordinator acknowledged the current escalation: no further level for this due date.
    escalation_held: bool = False
    #: Past due when its roadmap arrived, kept as history: never reminded, escalated or
    #: counted overdue.
    history: bool = False
    workflow_name: str = Field(sa_type=String(50))
    workflow_version: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Document(SQLModel, table=True):
    """A school's document under curator review (self-diagnostic, concept, programmes)."""

    __table_args__ = (
        Index("ix_document_school_state", "school_id", "state"),
        Index("ix_document_state_updated", "state", "updated_at"),
        Index("ix_document_state_changed", "state", "state_changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="organization.id")
    kind: str = Field(sa_type=String(32))
    title: str = Field(sa_type=Text)
    state: str = Field(sa_type=String(32))
    version: int = 1
    workflow_name: str = Field(sa_type=String(50))
    workflow_version: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuestionKind(StrEnum):
    """How a survey question is answered."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    NUMBER = "number"
    TEXT = "text"


class MonitoringRound(SQLModel, table=True):
    """A monitoring round of a roadmap: a window in which each participant reports the actual
    values of some indicators and answers a short survey."""

    __tablename__ = "monitoring_round"
    __table_args__ = (Index("ix_monitoring_round_roadmap", "roadmap_id", "opens_on"),)

    id: int | None = Field(default=None, primary_key=True)
    roadmap_id: int = Field(foreign_key="roadmap.id")
    title: str = Field(sa_type=Text)
    opens_on: date
    closes_on: date
    #: Who reports: each school of the roadmap, or the municipality as a whole.
    scope: str = Field(default=IndicatorScope.SCHOOL, sa_type=String(16))
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoundIndicator(SQLModel, table=True):
    """An indicator a round asks for."""

    __tablename__ = "round_indicator"

    round_id: int = Field(foreign_key="monitoring_round.id", primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    position: int = 0


class RoundQuestion(SQLModel, table=True):
    """A survey question of a round; `choices` for single and multiple choice."""

    __tablename__ = "round_question"
    __table_args__ = (Index("ix_round_question_round", "round_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monitoring_round.id")
    position: int = 0
    text: str = Field(sa_type=Text)
    kind: str = Field(sa_type=String(16))
    choices: list[str] = Field(default_factory=list, sa_type=JSONType)


class Submission(SQLModel, table=True):
    """One participant's answer to a round: its values and survey, moving through a lifecycle
    like an occurrence, due on the round's closing day."""

    __table_args__ = (
        UniqueConstraint("round_id", "assignee_id", name="uq_submission_round_assignee"),
        Index("ix_submission_assignee_state", "assignee_id", "state"),
        Index("ix_submission_escalation", "state", "escalation_level", "due_on"),
        Index("ix_submission_state_changed", "state", "state_changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monitoring_round.id")
    assignee_id: int = Field(foreign_key="organization.id")
    due_on: date | None = None
    #: Bumped when the round's window is extended: escalations of the earlier date are past.
    due_revision: int = 0
    state: str = Field(sa_type=String(32))
    version: int = 1
    escalation_level: int = 0
    escalation_held: bool = False
    workflow_name: str = Field(sa_type=String(50))
    workflow_version: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubmissionValue(SQLModel, table=True):
    """The actual value of one indicator in one submission."""

    __tablename__ = "submission_value"
    __table_args__ = (Index("ix_submission_value_indicator", "indicator_id"),)

    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    value: float
    comment: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyAnswer(SQLModel, table=True):
    """One participant's answer to one survey question: a number, a text or chosen options."""

    __tablename__ = "survey_answer"
    __table_args__ = (Index("ix_survey_answer_question", "question_id"),)

    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    question_id: int = Field(foreign_key="round_question.id", primary_key=True)
    answer: Any = Field(sa_type=JSONType)


#: Exactly one subject: an occurrence, a document or a submission.
_ONE_SUBJECT = (
    "(CASE WHEN occurrence_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN document_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN submission_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class Evidence(SQLModel, table=True):
    """Metadata of one uploaded file; the bytes live on disk under a generated name."""

    __table_args__ = (
        Index("ix_evidence_occurrence", "occurrence_id"),
        Index("ix_evidence_document", "document_id"),
        Index("ix_evidence_submission", "submission_id"),
        CheckConstraint(_ONE_SUBJECT, name="evidence_one_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    document_id: int | None = Field(default=None, foreign_key="document.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    original_name: str = Field(sa_type=String(255))
    stored_name: str = Field(sa_type=String(100), unique=True)
    content_type: str = Field(sa_type=String(100))
    size_bytes: int
    sha256: str = Field(sa_type=String(64))
    uploaded_by: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    """A remark or written report on an occurrence or document; never edited or deleted."""

    __table_args__ = (
        Index("ix_comment_occurrence", "occurrence_id"),
        Index("ix_comment_document", "document_id"),
        Index("ix_comment_submission", "submission_id"),
        CheckConstraint(_ONE_SUBJECT, name="comment_one_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    document_id: int | None = Field(default=None, foreign_key="document.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    author_id: int = Field(foreign_key="app_user.id")
    kind: str = Field(default=CommentKind.COMMENT, sa_type=String(16))
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TransitionLog(SQLModel, table=True):
    """Append-only record of every state change: who, when, from, to, and why."""

    __tablename__ = "transition_log"
    __table_args__ = (
        Index("ix_transition_log_occurrence", "occurrence_id", "id"),
        Index("ix_transition_log_document", "document_id", "id"),
        Index("ix_transition_log_submission", "submission_id", "id"),
        Index("ix_transition_log_at", "at"),
        CheckConstraint(_ONE_SUBJECT, name="transition_log_one_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    document_id: int | None = Field(default=None, foreign_key="document.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    from_state: str = Field(sa_type=String(32))
    to_state: str = Field(sa_type=String(32))
    trigger: str = Field(sa_type=String(50))
    actor_id: int = Field(foreign_key="app_user.id")
    at: datetime = Field(sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=Text)
    workflow_name: str = Field(sa_type=String(50))
    workflow_version: int


class EscalationKind(StrEnum):
    """What a deadline event is about."""

    REMINDER = "reminder"  # level 0: the due date is near
    OVERDUE = "overdue"  # levels 1–3: school and curator, municipal, regional coordinator
    REVIEW = "review"  # level 1: a report waits too long for the curator's verdict


class Escalation(SQLModel, table=True):
    """One reminder or escalation step; its unique key makes every step happen once."""

    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind", "level", "cycle", name="uq_escalation_occ"),
        UniqueConstraint("document_id", "kind", "level", "cycle", name="uq_escalation_doc"),
        UniqueConstraint("submission_id", "kind", "level", "cycle", name="uq_escalation_sub"),
        Index("ix_escalation_open", "acknowledged_at", "kind", "level"),
        Index("ix_escalation_created", "created_at"),
        CheckConstraint(_ONE_SUBJECT, name="escalation_one_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    document_id: int | None = Field(default=None, foreign_key="document.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    kind: str = Field(sa_type=String(16))
    level: int
    #: The due-date revision (reminders, overdue) or the reported version (review).
    cycle: int
    due_on: date | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: int | None = Field(default=None, foreign_key="app_user.id")
    ack_comment: str | None = Field(default=None, sa_type=Text)


class Notification(SQLModel, table=True):
    """One message to one user: the in-app inbox, and the outbox its e-mail is sent from.

    It is written in the same transaction as its cause; the sender marks `emailed_at` on
    success, and `key` travels as the e-mail's Message-ID so a receiver can drop a repeat.
    """

    __table_args__ = (
        Index("ix_notification_inbox", "user_id", "read_at", "id"),
        Index("ix_notification_unsent", "emailed_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(120), unique=True)
    user_id: int = Field(foreign_key="app_user.id")
    kind: str = Field(sa_type=String(32))
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    transition_id: int | None = Field(default=None, foreign_key="transition_log.id")
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_attempts: int = 0
    email_error: str | None = Field(default=None, sa_type=Text)


class EscalationPolicyOverride(SQLModel, table=True):
    """A municipality's own working-day offsets for one workflow, over the defaults."""

    __tablename__ = "escalation_policy_override"

    municipality_id: int = Field(foreign_key="organization.id", primary_key=True)
    workflow_name: str = Field(sa_type=String(50), primary_key=True)
    reminder_days: int
    municipal_after_days: int
    regional_after_days: int
    review_days: int


class CalendarOverride(SQLModel, table=True):
    """A local change to the production calendar: a day off, or a working day."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    is_working: bool
    note: str | None = Field(default=None, sa_type=String(300))


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    token_hash: str = Field(sa_type=String(64), unique=True)
    name: str = Field(sa_type=String(100))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, counted against an account key and an address key."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(220))
    at: datetime = Field(sa_type=UTCDateTime)


class ImportStatus(StrEnum):
    """Where a queued import is: waiting, being read and written, or over."""

    QUEUED = "queued"
    READING = "reading"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"


class ActivityChange(SQLModel, table=True):
    """One correction of a roadmap after its import: who, when, what it was, what it became."""

    __tablename__ = "activity_change"
    __table_args__ = (Index("ix_activity_change_roadmap", "roadmap_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    roadmap_id: int = Field(foreign_key="roadmap.id")
    activity_id: int | None = None  # no key: the changes of a removed activity stay
    user_id: int = Field(foreign_key="app_user.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(sa_type=String(10))  # added | edited | moved | removed
    label: str = Field(sa_type=String(300))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class ImportJob(SQLModel, table=True):
    """A roadmap document to import outside the request that uploaded it."""

    __tablename__ = "import_job"
    __table_args__ = (
        Index("ix_import_job_status", "status", "id"),
        Index("ix_import_job_owner", "owner_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    owner_id: int = Field(foreign_key="organization.id")  # the municipality imported into
    file_name: str = Field(sa_type=String(300))  # as uploaded, for people
    stored_as: str = Field(sa_type=String(100))  # under the upload directory
    status: str = Field(default=ImportStatus.QUEUED, sa_type=String(20))
    activities: int | None = None
    occurrences_added: int | None = None
    #: What to do with work already past due on arrival (`engine.importing.arrival`).
    past_due: str | None = Field(default=None, sa_type=String(10))
    past_due_on: date | None = None
    #: The coordinator's corrections made in the preview (`engine.importing.corrections`).
    corrections: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    roadmap_id: int | None = Field(default=None, foreign_key="roadmap.id")
    created: bool | None = None  # a new roadmap, or one imported before and updated
    error: str | None = Field(default=None, sa_type=Text)
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A one-time link to set one's password (an invitation, or a reset); only its SHA-256
    is kept here."""

    __table_args__ = (Index("ix_invitation_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    token_hash: str = Field(sa_type=String(64), unique=True)
    purpose: str = Field(sa_type=String(16))  # "invitation" or "reset"
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReviewView(SQLModel, table=True):
    """When a reviewer last opened an item of their queue: the bulk approval's confirmation
    counts what was never opened since it was last sent."""

    __tablename__ = "review_view"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    subject_kind: str = Field(sa_type=String(20), primary_key=True)
    subject_id: int = Field(primary_key=True)
    opened_at: datetime = Field(sa_type=UTCDateTime)


class AdminLog(SQLModel, table=True):
    """One administrative change: created, changed, deactivated, assigned, handed over,
    invited. Append-only."""

    __tablename__ = "admin_log"
    __table_args__ = (Index("ix_admin_log_subject", "subject", "subject_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_login: str = Field(sa_type=String(100))
    subject: str = Field(sa_type=String(20))  # "organization" or "user"
    subject_id: int
    action: str = Field(sa_type=String(30))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


APPEND_ONLY_TABLES = ("transition_log", "comment", "evidence", "admin_log")


class ProgressTally(SQLModel, table=True):
    """How many occurrences share an assignee, roadmap, section, state, history flag and
    due date's place (`DueBucket`) against the tally's day: the dashboards read these rows
    instead of every occurrence. Database triggers keep it current (migration 0013)."""

    __tablename__ = "progress_tally"
    __table_args__ = (Index("ix_progress_tally_municipality", "municipality_id"),)

    assignee_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    roadmap_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    #: The activity's section, 0 for none.
    section_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    state: str = Field(sa_type=String(32), primary_key=True)
    history: bool = Field(primary_key=True)
    due: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    #: The assignee's municipality (itself, for a municipality's or the region's own work).
    municipality_id: int
    n: int = 0


class ProgressRollup(SQLModel, table=True):
    """The tally summed over the schools of a municipality, in `ROLLUP_SLOTS` slots by
    assignee so that two schools' transitions seldom wait for one row: the region's
    dashboard reads a few thousand of these. The same triggers keep it current."""

    __tablename__ = "progress_rollup"

    municipality_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    roadmap_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    section_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    state: str = Field(sa_type=String(32), primary_key=True)
    history: bool = Field(primary_key=True)
    due: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    #: The assignee's id modulo ROLLUP_SLOTS.
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


#: Rows a municipality's count is spread over in `ProgressRollup` and `ProgressDaily`.
ROLLUP_SLOTS = 8


class ProgressDaily(SQLModel, table=True):
    """How many occurrences entered each state on each day (in the product's time zone),
    per municipality in slots as the rollup: the dashboard's approvals per week. Kept on
    PostgreSQL only, by the tally's trigger; rebuilt from the transition log for the days
    `DAILY_DAYS` back."""

    __tablename__ = "progress_daily"

    municipality_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: date = Field(primary_key=True)
    state: str = Field(sa_type=String(32), primary_key=True)
    n: int = 0


#: Days a rebuild of `ProgressDaily` counts back from the tally's day: twelve weeks and
#: the current one, the chart's span.
DAILY_DAYS = 13 * 7


class ProgressTallyDay(SQLModel, table=True):
    """The day the tally's due buckets are counted against; none while it needs a rebuild."""

    __tablename__ = "progress_tally_day"

    id: int = Field(default=1, primary_key=True)
    as_of: date | None = None
    #: The time zone whose days `ProgressDaily` counts.
    zone: str | None = Field(default=None, sa_type=String(64))
