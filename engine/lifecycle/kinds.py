"""What each kind of subject is in the tables: its row, its owner, the column that links
evidence, comments, log rows and escalations to it, and how lists name it.

Code that treats subjects alike reads this table instead of asking which kind it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, String, literal

from engine.lifecycle.definition import SubjectKind
from engine.models import Activity, Document, MonitoringRound, Occurrence, Submission


@dataclass(frozen=True)
class SubjectSpec:
    """One kind of subject, as its table and the lists see it."""

    kind: SubjectKind
    #: The SQLModel class of its rows.
    table: Any
    #: The organization whose work it is (school or municipality).
    owner: Any
    #: The column of evidence, comments, log rows and escalations that names it.
    link: str
    title: Any
    number: Any
    due: Any
    #: (target, ON clause) joins a query from `table` needs for its title and number.
    joins: tuple[tuple[Any, Any], ...] = ()
    #: It has due dates: the sweep reminds and escalates it, not only its review.
    ladder: bool = False

    def join(self, query: Any) -> Any:
        """`query` with what the title and number need."""
        for target, on in self.joins:
            query = query.join(target, on)
        return query

    def linked(self, model: Any) -> Any:
        """The column of `model` (Evidence, Comment, TransitionLog, Escalation) naming it."""
        return getattr(model, self.link)


SUBJECTS: dict[SubjectKind, SubjectSpec] = {
    SubjectKind.OCCURRENCE: SubjectSpec(
        SubjectKind.OCCURRENCE,
        Occurrence,
        Occurrence.assignee_id,
        "occurrence_id",
        Activity.title,
        Activity.number,
        Occurrence.due_on,
        joins=((Activity, Activity.id == Occurrence.activity_id),),
        ladder=True,
    ),
    SubjectKind.DOCUMENT: SubjectSpec(
        SubjectKind.DOCUMENT,
        Document,
        Document.school_id,
        "document_id",
        Document.title,
        literal(None, String),
        literal(None, Date),
    ),
    SubjectKind.SUBMISSION: SubjectSpec(
        SubjectKind.SUBMISSION,
        Submission,
        Submission.assignee_id,
        "submission_id",
        MonitoringRound.title,
        literal(None, String),
        Submission.due_on,
        joins=((MonitoringRound, MonitoringRound.id == Submission.round_id),),
        ladder=True,
    ),
}


def kind_of(row: Any) -> SubjectKind:
    """The kind of subject a linked row (evidence, escalation) names."""
    return next(spec.kind for spec in SUBJECTS.values() if getattr(row, spec.link) is not None)


def subject_id_of(row: Any) -> int:
    """The id of the subject a linked row names."""
    return int(getattr(row, SUBJECTS[kind_of(row)].link))
