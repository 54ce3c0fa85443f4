"""Guards that workflow definitions name: each returns None, or what is missing."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from engine.errors import ValidationError
from engine.lifecycle.definition import Guard
from engine.lifecycle.fire import GuardContext
from engine.lifecycle.statements import LINK_COLUMN
from engine.models import Comment, CommentKind, Evidence


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


#: Guards that workflow definitions may name.
GUARDS: dict[str, Guard] = {
    "has_evidence_or_report": has_evidence_or_report,
    "has_file": has_file,
}
