"""Guards that workflow definitions name: each returns None, or what is missing."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from engine.errors import ValidationError
from engine.lifecycle.definition import Guard
from engine.lifecycle.fire import GuardContext
from engine.lifecycle.statements import LINK_COLUMN
from engine.models import (
    Comment,
    CommentKind,
    Evidence,
    RoundIndicator,
    RoundQuestion,
    Submission,
    SubmissionValue,
    SurveyAnswer,
)


def has_evidence_or_report(ctx: GuardContext) -> ValidationError | None:
    """A report needs a file or a written text."""
    if ctx.report_text and ctx.report_text.strip():
        return None
    link = getattr(Evidence, LINK_COLUMN[ctx.subject])
    comment_link = getattr(Comment, LINK_COLUMN[ctx.subject])
    found = ctx.session.execute(
        select(
            or_(
                exists().where(link == ctx.subject_id),
                exists().where(comment_link == ctx.subject_id, Comment.kind == CommentKind.REPORT),
            )
        )
    ).scalar()
    if found:
        return None
    text = "attach at least one evidence file or write a report"
    return ValidationError(text, reason="evidence_required")


def has_file(ctx: GuardContext) -> ValidationError | None:
    """A document goes for review with its file."""
    link = getattr(Evidence, LINK_COLUMN[ctx.subject])
    found = ctx.session.execute(select(exists().where(link == ctx.subject_id))).scalar()
    if found:
        return None
    return ValidationError(
        "attach the document file before submitting", reason="document_file_required"
    )


def has_values(ctx: GuardContext) -> ValidationError | None:
    """A submission goes for review with a value for every indicator and an answer to every
    question of its round."""
    submission = Submission.__table__.c
    asked = select(submission.round_id).where(submission.id == ctx.subject_id).scalar_subquery()
    no_value = (
        select(RoundIndicator.indicator_id)
        .where(RoundIndicator.round_id == asked)
        .where(
            ~exists().where(
                SubmissionValue.submission_id == ctx.subject_id,
                SubmissionValue.indicator_id == RoundIndicator.indicator_id,
            )
        )
    )
    no_answer = (
        select(RoundQuestion.id)
        .where(RoundQuestion.round_id == asked)
        .where(
            ~exists().where(
                SurveyAnswer.submission_id == ctx.subject_id,
                SurveyAnswer.question_id == RoundQuestion.id,
            )
        )
    )
    values, answers = ctx.session.execute(select(exists(no_value), exists(no_answer))).one()
    if values:
        return ValidationError(
            "enter the value of every indicator before submitting", reason="values_required"
        )
    if answers:
        return ValidationError(
            "answer every survey question before submitting", reason="answers_required"
        )
    return None


#: Guards that workflow definitions may name.
GUARDS: dict[str, Guard] = {
    "has_evidence_or_report": has_evidence_or_report,
    "has_file": has_file,
    "has_values": has_values,
}
