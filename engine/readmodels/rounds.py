"""Monitoring rounds as pages show them: a roadmap's rounds, one round's participants and
survey, one submission, and each indicator's plan against its actual values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from engine.accounts.access import Actor, can_reach, require_reach, scope_clause
from engine.app import App
from engine.errors import NotFoundError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.lifecycle.fire import load_subject
from engine.models import (
    Indicator,
    IndicatorDirection,
    MonitoringRound,
    Organization,
    OrganizationKind,
    QuestionKind,
    Roadmap,
    RoundIndicator,
    RoundQuestion,
    Submission,
    SubmissionValue,
    SurveyAnswer,
)
from engine.readmodels.common import Page
from engine.readmodels.subjects import (
    CommentItem,
    EvidenceItem,
    HistoryEntry,
    comment_list,
    evidence_list,
    history,
)

#: The share of the target still missing that is «под угрозой», not yet «отстаёт».
AT_RISK_SHARE = 0.10
#: The rule of `track_mark`, as the API states it.
MARK_RULE = (
    "on_track: the latest round's mean of accepted values meets the target; at_risk: it "
    f"falls short by at most {AT_RISK_SHARE:.0%} of the target; off_track: by more. "
    "increase_by and decrease_by measure the change from the baseline (from the first "
    "round when there is none)."
)
#: Text answers a round's page lists per question.
TEXT_ANSWERS_SHOWN = 50


class Mark:
    """How an indicator stands against its target (`track_mark`)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"


def track_mark(
    direction: str | None, target: float | None, baseline: float | None, value: float | None
) -> str | None:
    """On track when the value meets the target; at risk when what is missing is at most
    AT_RISK_SHARE of the target; off track otherwise. «Increase by» and «decrease by» measure
    the change from the baseline. None when there is nothing to compare."""
    if value is None or target is None or direction is None:
        return None
    if direction in (IndicatorDirection.INCREASE_BY, IndicatorDirection.DECREASE_BY):
        if baseline is None:
            return None
        change = value - baseline
        reached = change if direction == IndicatorDirection.INCREASE_BY else -change
        missing = target - reached
    elif direction == IndicatorDirection.AT_LEAST:
        missing = target - value
    elif direction == IndicatorDirection.AT_MOST:
        missing = value - target
    else:
        missing = abs(value - target)
    if missing <= 0:
        return Mark.ON_TRACK
    if missing <= AT_RISK_SHARE * abs(target):
        return Mark.AT_RISK
    return Mark.OFF_TRACK


def goal_of(direction: str | None, target: float | None, baseline: float | None) -> float | None:
    """The value an actual must reach: the target, or the baseline moved by it."""
    if target is None or direction is None:
        return None
    if direction == IndicatorDirection.INCREASE_BY:
        return None if baseline is None else baseline + target
    if direction == IndicatorDirection.DECREASE_BY:
        return None if baseline is None else baseline - target
    return target


@dataclass(frozen=True)
class RoundRow:
    """A round in a roadmap's list, counted for the actor's territory."""

    id: int
    title: str
    opens_on: date
    closes_on: date
    scope: str
    participants: int
    under_review: int
    done: int


def _round_states(app: App, phase: Phase) -> tuple[str, ...]:
    return app.states(SubjectKind.SUBMISSION, phase)


def roadmap_rounds(app: App, session: Session, actor: Actor, roadmap_id: int) -> list[RoundRow]:
    """The rounds of a roadmap, newest first, with their submissions counted by phase among
    those the actor sees (the caller checked reach of the roadmap)."""
    review = Submission.state.in_(_round_states(app, Phase.UNDER_REVIEW))
    done = Submission.state.in_(_round_states(app, Phase.DONE))
    rows = session.execute(
        select(
            MonitoringRound.id,
            MonitoringRound.title,
            MonitoringRound.opens_on,
            MonitoringRound.closes_on,
            MonitoringRound.scope,
            func.count(Submission.id),
            func.count(Submission.id).filter(review),
            func.count(Submission.id).filter(done),
        )
        .outerjoin(
            Submission,
            and_(
                Submission.round_id == MonitoringRound.id,
                scope_clause(actor, Submission.assignee_id),
            ),
        )
        .where(MonitoringRound.roadmap_id == roadmap_id)
        .group_by(MonitoringRound.id)
        .order_by(MonitoringRound.opens_on.desc(), MonitoringRound.id.desc())
        .limit(200)
    ).all()
    return [RoundRow(*row) for row in rows]


@dataclass(frozen=True)
class AskedIndicator:
    """An indicator a round asks for, with its target."""

    id: int
    number: str | None
    title: str
    target_value: float | None
    unit: str | None
    direction: str | None
    baseline: float | None


#: The columns of an AskedIndicator, in its order.
_ASKED = (
    Indicator.id,
    Indicator.number,
    Indicator.title,
    Indicator.target_value,
    Indicator.unit,
    Indicator.direction,
    Indicator.baseline,
)


@dataclass(frozen=True)
class Question:
    """A survey question of a round."""

    id: int
    text: str
    kind: str
    choices: list[str]


@dataclass
class Tally:
    """The answers to one question, added up over the submissions sent."""

    answered: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ParticipantRow:
    """One participant's submission on the round's page."""

    submission_id: int
    assignee_id: int
    name: str
    state: str
    escalation_level: int
    values: dict[int, float]


@dataclass
class RoundDetail:
    """Everything a round's page shows."""

    id: int
    roadmap_id: int
    roadmap: str
    title: str
    opens_on: date
    closes_on: date
    scope: str
    indicators: list[AskedIndicator]
    questions: list[Question]
    participants: Page
    tallies: dict[int, Tally]
    #: The actor's own submission, if they are a participant.
    own_submission: int | None = None


def _round_or_404(session: Session, round_id: int) -> tuple[MonitoringRound, Roadmap]:
    row = session.execute(
        select(MonitoringRound, Roadmap)
        .join(Roadmap, Roadmap.id == MonitoringRound.roadmap_id)
        .where(MonitoringRound.id == round_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"monitoring round {round_id} does not exist")
    return row[0], row[1]


def asked_indicators(session: Session, round_id: int) -> list[AskedIndicator]:
    """The indicators a round asks for, in its order."""
    rows = session.execute(
        select(*_ASKED)
        .join(RoundIndicator, RoundIndicator.indicator_id == Indicator.id)
        .where(RoundIndicator.round_id == round_id)
        .order_by(RoundIndicator.position)
    ).all()
    return [AskedIndicator(*row) for row in rows]


def round_questions(session: Session, round_id: int) -> list[Question]:
    """The survey questions of a round, in its order."""
    rows = session.execute(
        select(RoundQuestion.id, RoundQuestion.text, RoundQuestion.kind, RoundQuestion.choices)
        .where(RoundQuestion.round_id == round_id)
        .order_by(RoundQuestion.position, RoundQuestion.id)
    ).all()
    return [Question(*row) for row in rows]


def round_detail(
    app: App, session: Session, actor: Actor, round_id: int, *, page: int = 1, per_page: int = 50
) -> RoundDetail:
    """One round: its indicators and questions, the participants the actor sees with their
    values (a page of them), and the survey added up over what was sent."""
    monitoring, roadmap = _round_or_404(session, round_id)
    own = session.execute(
        select(Submission.id).where(
            Submission.round_id == round_id, Submission.assignee_id == actor.organization_id
        )
    ).scalar()
    if own is None and not can_reach(session, actor, roadmap.owner_id):
        raise NotFoundError(f"monitoring round {round_id} does not exist")
    visible = and_(Submission.round_id == round_id, scope_clause(actor, Submission.assignee_id))
    total = session.execute(select(func.count()).where(visible)).scalar_one()
    rows = session.execute(
        select(
            Submission.id,
            Submission.assignee_id,
            Organization.name,
            Submission.state,
            Submission.escalation_level,
        )
        .join(Organization, Organization.id == Submission.assignee_id)
        .where(visible)
        .order_by(Organization.name, Submission.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    values: dict[int, dict[int, float]] = {row[0]: {} for row in rows}
    for submission_id, indicator_id, value in session.execute(
        select(
            SubmissionValue.submission_id, SubmissionValue.indicator_id, SubmissionValue.value
        ).where(SubmissionValue.submission_id.in_(values))
    ):
        values[submission_id][indicator_id] = value
    participants = [
        ParticipantRow(row[0], row[1], row[2], row[3], row[4], values[row[0]]) for row in rows
    ]
    questions = round_questions(session, round_id)
    return RoundDetail(
        id=round_id,
        roadmap_id=roadmap.id,
        roadmap=roadmap.title,
        title=monitoring.title,
        opens_on=monitoring.opens_on,
        closes_on=monitoring.closes_on,
        scope=monitoring.scope,
        indicators=asked_indicators(session, round_id),
        questions=questions,
        participants=Page(participants, total, page, per_page),
        tallies=_tallies(app, session, visible, questions),
        own_submission=own,
    )


def _tallies(
    app: App, session: Session, visible: Any, questions: list[Question]
) -> dict[int, Tally]:
    """The answers of the submissions sent (under review or accepted), added up in SQL."""
    sent = Submission.state.in_(
        _round_states(app, Phase.UNDER_REVIEW) + _round_states(app, Phase.DONE)
    )
    tallies = {q.id: Tally() for q in questions}
    answered = (
        select(SurveyAnswer.question_id, SurveyAnswer.answer, Organization.name)
        .join(Submission, Submission.id == SurveyAnswer.submission_id)
        .join(Organization, Organization.id == Submission.assignee_id)
        .where(visible, sent)
    )
    numbers = [q.id for q in questions if q.kind == QuestionKind.NUMBER]
    choosing = [q.id for q in questions if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)]
    texts = [q.id for q in questions if q.kind == QuestionKind.TEXT]
    answers = answered.subquery()
    for question_id, count in session.execute(
        select(answers.c.question_id, func.count()).group_by(answers.c.question_id)
    ):
        tallies[question_id].answered = count
    if choosing:
        # answers are few per round and question; their lists are added up here
        for question_id, answer, _name in session.execute(
            answered.where(SurveyAnswer.question_id.in_(choosing))
        ):
            for choice in answer if isinstance(answer, list) else [answer]:
                counts = tallies[question_id].counts
                counts[str(choice)] = counts.get(str(choice), 0) + 1
    for question_id in numbers:
        given = [
            float(answer)
            for _q, answer, _n in session.execute(
                answered.where(SurveyAnswer.question_id == question_id)
            )
            if isinstance(answer, (int, float))
        ]
        if given:
            tally = tallies[question_id]
            tally.mean, tally.low, tally.high = sum(given) / len(given), min(given), max(given)
    for question_id in texts:
        tallies[question_id].texts = [
            (name, str(answer))
            for _q, answer, name in session.execute(
                answered.where(SurveyAnswer.question_id == question_id)
                .order_by(Organization.name)
                .limit(TEXT_ANSWERS_SHOWN)
            )
        ]
    return tallies


@dataclass(frozen=True)
class Entry:
    """An indicator of a submission with the value entered for it."""

    indicator: AskedIndicator
    value: float | None
    comment: str | None


@dataclass(frozen=True)
class Answer:
    """A question of a submission with the answer given."""

    question: Question
    answer: Any

    @property
    def chosen(self) -> list[str]:
        """The choices picked (single and multiple choice)."""
        if self.answer is None:
            return []
        return (
            [str(a) for a in self.answer] if isinstance(self.answer, list) else [str(self.answer)]
        )


@dataclass
class SubmissionDetail:
    """Everything a submission's page shows."""

    id: int
    version: int
    state: str
    workflow_name: str
    workflow_version: int
    due_on: date | None
    escalation_level: int
    assignee_id: int
    assignee: str
    round_id: int
    round_title: str
    opens_on: date
    closes_on: date
    roadmap_id: int
    roadmap: str
    entries: list[Entry]
    answers: list[Answer]
    evidence: list[EvidenceItem]
    comments: list[CommentItem]
    history: list[HistoryEntry]


def submission_detail(
    app: App, session: Session, actor: Actor, submission_id: int
) -> SubmissionDetail:
    """One submission with its values, answers, files and history, for its tenant only."""
    ref = load_subject(session, SubjectKind.SUBMISSION, submission_id)
    require_reach(session, actor, ref.owner_id, f"submission {submission_id}")
    submission, monitoring, roadmap, assignee = session.execute(
        select(Submission, MonitoringRound, Roadmap, Organization.name)
        .join(MonitoringRound, MonitoringRound.id == Submission.round_id)
        .join(Roadmap, Roadmap.id == MonitoringRound.roadmap_id)
        .join(Organization, Organization.id == Submission.assignee_id)
        .where(Submission.id == submission_id)
    ).one()
    entered = {
        indicator_id: (value, comment)
        for indicator_id, value, comment in session.execute(
            select(
                SubmissionValue.indicator_id, SubmissionValue.value, SubmissionValue.comment
            ).where(SubmissionValue.submission_id == submission_id)
        )
    }
    given: dict[int, Any] = {
        row.question_id: row.answer
        for row in session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.answer).where(
                SurveyAnswer.submission_id == submission_id
            )
        )
    }
    return SubmissionDetail(
        id=submission.id,
        version=submission.version,
        state=submission.state,
        workflow_name=submission.workflow_name,
        workflow_version=submission.workflow_version,
        due_on=submission.due_on,
        escalation_level=submission.escalation_level,
        assignee_id=submission.assignee_id,
        assignee=assignee,
        round_id=monitoring.id,
        round_title=monitoring.title,
        opens_on=monitoring.opens_on,
        closes_on=monitoring.closes_on,
        roadmap_id=roadmap.id,
        roadmap=roadmap.title,
        entries=[
            Entry(indicator, *entered.get(indicator.id, (None, None)))
            for indicator in asked_indicators(session, monitoring.id)
        ],
        answers=[Answer(q, given.get(q.id)) for q in round_questions(session, monitoring.id)],
        evidence=evidence_list(session, SubjectKind.SUBMISSION, submission_id),
        comments=comment_list(session, SubjectKind.SUBMISSION, submission_id),
        history=history(session, actor, SubjectKind.SUBMISSION, submission_id),
    )


@dataclass(frozen=True)
class RoundTask:
    """A submission of the actor's own organization that still needs its values."""

    submission_id: int
    round_title: str
    roadmap: str
    due_on: date | None
    state: str


def round_tasks(app: App, session: Session, actor: Actor, *, limit: int = 20) -> list[RoundTask]:
    """The open submissions of the actor's organization, soonest due first."""
    if actor.organization_id is None:
        return []
    rows = session.execute(
        select(
            Submission.id,
            MonitoringRound.title,
            Roadmap.title,
            Submission.due_on,
            Submission.state,
        )
        .join(MonitoringRound, MonitoringRound.id == Submission.round_id)
        .join(Roadmap, Roadmap.id == MonitoringRound.roadmap_id)
        .where(
            Submission.assignee_id == actor.organization_id,
            Submission.state.in_(_round_states(app, Phase.OPEN)),
        )
        .order_by(Submission.due_on, Submission.id)
        .limit(limit)
    ).all()
    return [RoundTask(*row) for row in rows]


@dataclass(frozen=True)
class RoundValue:
    """An indicator's accepted values in one round: their mean, and how many there were."""

    round_id: int
    round_title: str
    closes_on: date
    value: float | None
    count: int


@dataclass
class IndicatorTrack:
    """One indicator's plan against its actual values, round by round."""

    indicator: AskedIndicator
    rounds: list[RoundValue]
    #: Per municipality (the region's view) or per participant: its name and its mean per
    #: round, in order.
    places: list[tuple[str, list[float | None]]]
    mark: str | None
    #: The value the target means: the target itself, or the baseline moved by it («increase
    #: by», «decrease by»); None when there is no baseline to move.
    goal: float | None = None


@dataclass(frozen=True)
class Plan:
    """A roadmap's indicators against their values."""

    roadmap_id: int
    title: str
    tracks: list[IndicatorTrack]


def plan_against_actual(
    app: App, session: Session, actor: Actor, roadmap_id: int, *, by_municipality: bool = True
) -> Plan:
    """For each indicator a round of `roadmap_id` asked for: target, baseline and the mean of
    the accepted values of each round among the participants the actor sees, per municipality
    too (or per participant, without `by_municipality`), and its mark by `track_mark` on the
    latest round. Added up in SQL."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    takes_part = (
        select(Submission.id)
        .join(MonitoringRound, MonitoringRound.id == Submission.round_id)
        .where(
            MonitoringRound.roadmap_id == roadmap_id,
            Submission.assignee_id == actor.organization_id,
        )
        .exists()
    )
    if (
        not can_reach(session, actor, roadmap.owner_id)
        and not session.execute(select(takes_part)).scalar()
    ):
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    rounds = session.execute(
        select(MonitoringRound.id, MonitoringRound.title, MonitoringRound.closes_on)
        .where(MonitoringRound.roadmap_id == roadmap_id)
        .order_by(MonitoringRound.opens_on, MonitoringRound.id)
        .limit(100)
    ).all()
    if not rounds:
        return Plan(roadmap_id, roadmap.title, [])
    place: Any = Submission.assignee_id
    if by_municipality:
        place = case(
            (Organization.kind == OrganizationKind.SCHOOL, Organization.parent_id),
            else_=Organization.id,
        )
    rows = session.execute(  # one pass: per round, indicator and municipality
        select(
            Submission.round_id,
            SubmissionValue.indicator_id,
            place,
            func.sum(SubmissionValue.value),
            func.count(),
        )
        .join(SubmissionValue, SubmissionValue.submission_id == Submission.id)
        .join(Organization, Organization.id == Submission.assignee_id)
        .where(
            Submission.round_id.in_([r.id for r in rounds]),
            Submission.state.in_(_round_states(app, Phase.DONE)),
            scope_clause(actor, Submission.assignee_id),
        )
        .group_by(Submission.round_id, SubmissionValue.indicator_id, place)
    ).all()
    by_place: dict[tuple[int, int, int], float] = {}
    sums: dict[tuple[int, int], tuple[float, int]] = {}
    for round_id, indicator_id, place_id, total, count in rows:
        by_place[(round_id, indicator_id, place_id)] = total / count
        held, seen = sums.get((round_id, indicator_id), (0.0, 0))
        sums[(round_id, indicator_id)] = (held + total, seen + count)
    overall = {key: (total / count, count) for key, (total, count) in sums.items()}
    places = sorted({p for _r, _i, p in by_place})
    names: dict[int, str] = {
        row.id: row.name
        for row in session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(places))
        )
    }
    places.sort(key=lambda place_id: (names.get(place_id, ""), place_id))
    asked = _asked_of(session, [r.id for r in rounds])
    tracks = []
    for indicator in asked:
        values = [
            RoundValue(
                r.id,
                r.title,
                r.closes_on,
                *(overall.get((r.id, indicator.id)) or (None, 0)),
            )
            for r in rounds
        ]
        latest = next((v.value for v in reversed(values) if v.value is not None), None)
        first = next((v.value for v in values if v.value is not None), None)
        baseline = indicator.baseline if indicator.baseline is not None else first
        tracks.append(
            IndicatorTrack(
                indicator,
                values,
                [
                    (names.get(p, "—"), [by_place.get((r.id, indicator.id, p)) for r in rounds])
                    for p in places
                    if any((r.id, indicator.id, p) in by_place for r in rounds)
                ],
                track_mark(indicator.direction, indicator.target_value, baseline, latest),
                goal_of(indicator.direction, indicator.target_value, baseline),
            )
        )
    return Plan(roadmap_id, roadmap.title, tracks)


def _asked_of(session: Session, round_ids: Iterable[int]) -> list[AskedIndicator]:
    """The indicators any of the rounds asks for, in the roadmap's order."""
    rows = session.execute(
        select(*_ASKED)
        .where(
            Indicator.id.in_(
                select(RoundIndicator.indicator_id).where(RoundIndicator.round_id.in_(round_ids))
            )
        )
        .order_by(Indicator.position, Indicator.id)
    ).all()
    return [AskedIndicator(*row) for row in rows]


def with_rounds(session: Session, roadmap_ids: Iterable[int]) -> set[int]:
    """Those of the roadmaps that have had a monitoring round."""
    ids = list(roadmap_ids)
    if not ids:
        return set()
    return set(
        session.execute(
            select(MonitoringRound.roadmap_id).where(MonitoringRound.roadmap_id.in_(ids)).distinct()
        ).scalars()
    )
