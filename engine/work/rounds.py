"""Monitoring rounds: a coordinator opens one on a roadmap; each participant enters the actual
values of its indicators and answers its survey, then submits them for review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal, select
from sqlmodel import Session

from engine.accounts.access import Actor, Power, require_coordinator, require_power
from engine.errors import (
    NotFoundError,
    ValidationError,
    check_length,
    required_remark,
)
from engine.importing.indicators import read_number
from engine.lifecycle.definition import SubjectKind, WorkflowRegistry
from engine.models import (
    Indicator,
    IndicatorScope,
    MonitoringRound,
    Notification,
    Organization,
    QuestionKind,
    Roadmap,
    RoadmapParticipant,
    RoundIndicator,
    RoundQuestion,
    Submission,
    SubmissionValue,
    SurveyAnswer,
    User,
)
from engine.notices.notify import STAFF_ROLES
from engine.work.evidence import require_worked_on

MAX_TITLE = 300
MAX_QUESTIONS = 20
MAX_CHOICES = 12
MAX_QUESTION = 1_000
MAX_CHOICE = 200
MAX_ANSWER = 2_000
#: Questions answered by picking from `choices`.
CHOOSING = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


@dataclass(frozen=True)
class QuestionDraft:
    """A survey question as the coordinator wrote it."""

    text: str
    kind: str
    choices: tuple[str, ...] = field(default_factory=tuple)


def open_round(
    session: Session,
    registry: WorkflowRegistry,
    actor: Actor,
    roadmap_id: int,
    *,
    title: str,
    opens_on: date,
    closes_on: date,
    scope: str,
    indicator_ids: Sequence[int],
    questions: Sequence[QuestionDraft],
    now: datetime,
) -> MonitoringRound:
    """A new round of `roadmap_id` with a submission for each participant, due on its closing
    day, in the caller's transaction."""
    require_power(actor, Power.ARRANGE, "monitoring rounds")
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_coordinator(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    title = required_remark(
        title, "a round needs a title", name="title", reason="round_title_required"
    )
    check_length("title", title, MAX_TITLE)
    if closes_on < opens_on:
        raise ValidationError(
            f"the round closes ({closes_on:%d.%m.%Y}) before it opens ({opens_on:%d.%m.%Y})",
            reason="window_reversed",
        )
    if closes_on < now.date():
        raise ValidationError(
            f"the round closes on {closes_on:%d.%m.%Y}, which is past", reason="window_past"
        )
    if scope not in set(IndicatorScope):
        raise ValidationError(f"unknown scope {scope[:40]!r}", reason="unknown_choice")
    asked = list(dict.fromkeys(indicator_ids))
    known = set(
        session.execute(
            select(Indicator.id).where(Indicator.roadmap_id == roadmap_id, Indicator.id.in_(asked))
        ).scalars()
    )
    if missing := [i for i in asked if i not in known]:
        raise ValidationError(
            f"indicator {missing[0]} is not an indicator of roadmap {roadmap_id}",
            reason="unknown_indicator",
        )
    drafts = [_checked(q, n) for n, q in enumerate(questions, 1)]
    if len(drafts) > MAX_QUESTIONS:
        raise ValidationError(f"at most {MAX_QUESTIONS} questions", reason="too_many_questions")
    if not asked and not drafts:
        raise ValidationError(
            "a round asks for at least one indicator or question", reason="round_empty"
        )
    participants = _participants(roadmap_id, scope)
    if not session.execute(select(func.count()).select_from(participants)).scalar():
        raise ValidationError(
            f"roadmap {roadmap_id} has no participating schools", reason="no_participants"
        )
    monitoring = MonitoringRound(
        roadmap_id=roadmap_id,
        title=title,
        opens_on=opens_on,
        closes_on=closes_on,
        scope=scope,
        created_by=actor.id,
        created_at=now,
    )
    session.add(monitoring)
    session.flush()
    assert monitoring.id is not None
    for position, indicator_id in enumerate(asked):
        session.add(
            RoundIndicator(round_id=monitoring.id, indicator_id=indicator_id, position=position)
        )
    for position, draft in enumerate(drafts):
        session.add(
            RoundQuestion(
                round_id=monitoring.id,
                position=position,
                text=draft.text,
                kind=draft.kind,
                choices=list(draft.choices),
            )
        )
    definition = registry.for_subject(SubjectKind.SUBMISSION).definition
    at = Submission.__table__.c.created_at.type
    rows = select(
        literal(monitoring.id),
        participants.c.assignee_id,
        literal(closes_on),
        literal(definition.initial),
        literal(definition.name),
        literal(definition.version),
        literal(now, at),
        literal(now, at),
        literal(now, at),
        literal(0),
        literal(1),
        literal(0),
        literal(False),
    )
    columns = [
        "round_id",
        "assignee_id",
        "due_on",
        "state",
        "workflow_name",
        "workflow_version",
        "created_at",
        "updated_at",
        "state_changed_at",
        "due_revision",
        "version",
        "escalation_level",
        "escalation_held",
    ]
    session.execute(insert(Submission).from_select(columns, rows))  # one statement
    _announce(session, monitoring, roadmap.title, now)
    session.flush()
    return monitoring


def _announce(session: Session, monitoring: MonitoringRound, roadmap: str, now: datetime) -> None:
    """Tell each participant's staff that the round is open, in their inbox and by e-mail."""
    staff = session.execute(
        select(Submission.id, User.id)
        .join(User, User.organization_id == Submission.assignee_id)
        .where(
            Submission.round_id == monitoring.id,
            User.role.in_(STAFF_ROLES),
            User.is_active.is_(True),
        )
    ).all()
    if not staff:
        return
    subject = f"Мониторинг: {monitoring.title[:80]}"
    lines = [
        f"Открыт этап мониторинга «{monitoring.title}» по дорожной карте «{roadmap[:200]}».",
        f"Внесите значения показателей и ответы до {monitoring.closes_on:%d.%m.%Y}.",
    ]
    session.execute(
        insert(Notification),
        [
            {
                "key": f"round:{submission_id}:{user_id}",
                "user_id": user_id,
                "kind": "round",
                "payload": {
                    "subject": subject,
                    "lines": lines,
                    "path": f"/submissions/{submission_id}",
                },
                "created_at": now,
                "email_attempts": 0,
            }
            for submission_id, user_id in staff
        ],
    )


def _participants(roadmap_id: int, scope: str) -> Any:
    """Who answers a round: each participating school, or each municipality of theirs."""
    if scope == IndicatorScope.SCHOOL:
        return (
            select(RoadmapParticipant.school_id.label("assignee_id"))
            .where(RoadmapParticipant.roadmap_id == roadmap_id)
            .subquery()
        )
    return (
        select(Organization.parent_id.label("assignee_id"))
        .distinct()
        .join(RoadmapParticipant, RoadmapParticipant.school_id == Organization.id)
        .where(RoadmapParticipant.roadmap_id == roadmap_id, Organization.parent_id.is_not(None))
        .subquery()
    )


def _checked(question: QuestionDraft, number: int) -> QuestionDraft:
    """The question with its text and choices trimmed, or a ValidationError naming it."""
    where = f"question {number}"
    text = required_remark(
        question.text, f"{where} has no text", name="question", reason="question_text_required"
    )
    check_length(where, text, MAX_QUESTION)
    if question.kind not in set(QuestionKind):
        raise ValidationError(
            f"{where}: unknown kind {question.kind[:40]!r}", reason="unknown_choice"
        )
    choices = tuple(dict.fromkeys(c.strip() for c in question.choices if c.strip()))
    if question.kind in CHOOSING:
        if not 2 <= len(choices) <= MAX_CHOICES:
            raise ValidationError(
                f"{where} needs between 2 and {MAX_CHOICES} choices", reason="choices_required"
            )
        for choice in choices:
            check_length(f"{where}: a choice", choice, MAX_CHOICE)
    else:
        choices = ()
    return QuestionDraft(text, question.kind, choices)


def save_entries(
    session: Session,
    registry: WorkflowRegistry,
    actor: Actor,
    submission_id: int,
    *,
    values: Mapping[int, tuple[str, str]],
    answers: Mapping[int, Sequence[str]],
    now: datetime,
) -> None:
    """Store the values (indicator id → (number, comment)) and answers (question id → what
    was typed or chosen) of one submission, while its participant works on it; a blank value
    or answer clears the one stored."""
    require_worked_on(
        session,
        registry,
        SubjectKind.SUBMISSION,
        submission_id,
        actor,
        "enters values",
        "values are entered",
        "values_locked",
    )
    round_id = session.execute(
        select(Submission.round_id).where(Submission.id == submission_id)
    ).scalar_one()
    asked = set(
        session.execute(
            select(RoundIndicator.indicator_id).where(RoundIndicator.round_id == round_id)
        ).scalars()
    )
    for indicator_id, (text, comment) in values.items():
        if indicator_id not in asked:
            raise ValidationError(
                f"indicator {indicator_id} is not asked for by this round",
                reason="unknown_indicator",
            )
        value = read_number(f"value of indicator {indicator_id}", text)
        remark = (comment or "").strip() or None
        check_length("comment", remark)
        _put_value(session, submission_id, indicator_id, value, remark, now)
    questions = {
        q.id: q
        for q in session.execute(
            select(RoundQuestion).where(RoundQuestion.round_id == round_id)
        ).scalars()
    }
    for question_id, given in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise ValidationError(
                f"question {question_id} is not asked by this round", reason="unknown_question"
            )
        _put_answer(session, submission_id, question_id, _answer(question, given))
    session.execute(
        Submission.__table__.update()
        .where(Submission.__table__.c.id == submission_id)
        .values(updated_at=now)
    )


def _put_value(
    session: Session,
    submission_id: int,
    indicator_id: int,
    value: float | None,
    comment: str | None,
    now: datetime,
) -> None:
    held = session.get(SubmissionValue, (submission_id, indicator_id))
    if value is None:
        if held is not None:
            session.delete(held)
        return
    if held is None:
        session.add(
            SubmissionValue(
                submission_id=submission_id,
                indicator_id=indicator_id,
                value=value,
                comment=comment,
                updated_at=now,
            )
        )
    else:
        held.value, held.comment, held.updated_at = value, comment, now


def _put_answer(session: Session, submission_id: int, question_id: int, answer: Any) -> None:
    session.execute(
        delete(SurveyAnswer).where(
            SurveyAnswer.submission_id == submission_id, SurveyAnswer.question_id == question_id
        )
    )
    if answer is not None:
        session.add(
            SurveyAnswer(submission_id=submission_id, question_id=question_id, answer=answer)
        )


def _answer(question: RoundQuestion, given: Sequence[str]) -> Any:
    """The answer as stored (a number, a text, a choice or a list of them); None when blank."""
    where = f"question «{question.text[:60]}»"
    picked = [g.strip() for g in given if g and g.strip()]
    if not picked:
        return None
    if question.kind == QuestionKind.NUMBER:
        return read_number(where, picked[0])
    if question.kind == QuestionKind.TEXT:
        check_length(where, picked[0], MAX_ANSWER)
        return picked[0]
    unknown = [p for p in picked if p not in question.choices]
    if unknown:
        raise ValidationError(
            f"{where}: «{unknown[0][:60]}» is not one of its choices", reason="unknown_choice"
        )
    if question.kind == QuestionKind.SINGLE:
        if len(picked) > 1:
            raise ValidationError(f"{where} takes one choice", reason="one_choice")
        return picked[0]
    return [c for c in question.choices if c in picked]
