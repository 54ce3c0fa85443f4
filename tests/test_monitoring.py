"""Monitoring rounds: opening one, entering and submitting values, review, the sweep, the
survey's tally and the plan against actual."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

import engine.lifecycle.fire as fire_module
from engine.db import make_engine, unit_of_work
from engine.errors import (
    ConflictError,
    DomainError,
    PermissionDeniedError,
    ValidationError,
)
from engine.lifecycle.definition import Phase, SubjectKind
from engine.lifecycle.fire import fire
from engine.models import (
    Escalation,
    Indicator,
    MonitoringRound,
    Notification,
    RoadmapParticipant,
    Submission,
    SubmissionValue,
    TransitionLog,
)
from engine.notices.inbox import render
from engine.readmodels.review import review_queue
from engine.readmodels.rounds import (
    Mark,
    goal_of,
    plan_against_actual,
    round_detail,
    round_tasks,
    track_mark,
)
from engine.usecases.monitoring import enter_and_act
from engine.work.rounds import QuestionDraft, open_round, save_entries
from tests.factories import POLICIES, REGISTRY, World, app_for
from tests.sweeping import at, sweep_at

SUB = SubjectKind.SUBMISSION
OPENS, CLOSES = date(2024, 3, 1), date(2024, 3, 15)


def _roadmap_id(session) -> int:
    from engine.models import Roadmap

    return session.execute(select(func.min(Roadmap.id))).scalar_one()


def _setup(world: World) -> tuple[int, list[int]]:
    """Schools A and B take part in the world's roadmap; it has two indicators."""
    with unit_of_work(world.engine) as session:
        roadmap_id = _roadmap_id(session)
        session.add_all(
            [
                RoadmapParticipant(roadmap_id=roadmap_id, school_id=world.school_a),
                RoadmapParticipant(roadmap_id=roadmap_id, school_id=world.school_b),
            ]
        )
        shares = Indicator(
            roadmap_id=roadmap_id,
            number="1",
            title="Доля педагогов, прошедших курсы",
            target_value=90,
            unit="%",
            direction="at_least",
            scope="school",
            position=0,
        )
        results = Indicator(
            roadmap_id=roadmap_id,
            number="2",
            title="Средний балл ВПР",
            target_value=5,
            unit="points",
            direction="increase_by",
            baseline=3.5,
            scope="school",
            position=1,
        )
        session.add_all([shares, results])
        session.flush()
        return roadmap_id, [shares.id, results.id]


QUESTIONS = [
    QuestionDraft("Проведён ли педсовет?", "single", ("да", "нет")),
    QuestionDraft("Какие курсы пройдены?", "multiple", ("ИКТ", "ФГОС", "Инклюзия")),
    QuestionDraft("Сколько родителей пришло?", "number"),
]


def _open(world: World, roadmap_id: int, indicators: list[int], **overrides) -> int:
    arguments = dict(
        title="Мониторинг, I этап",
        opens_on=OPENS,
        closes_on=CLOSES,
        scope="school",
        indicator_ids=indicators,
        questions=QUESTIONS,
        now=world_now(),
    )
    arguments.update(overrides)
    with unit_of_work(world.engine) as session:
        monitoring = open_round(session, REGISTRY, world.actor("coord_m1"), roadmap_id, **arguments)
        return monitoring.id  # type: ignore[return-value]


def world_now():
    return at("2024-03-01 09:00")


def _submission(world: World, round_id: int, school: int) -> int:
    with unit_of_work(world.engine, readonly=True) as session:
        return session.execute(
            select(Submission.id).where(
                Submission.round_id == round_id, Submission.assignee_id == school
            )
        ).scalar_one()


def _state(world: World, submission_id: int) -> str:
    with unit_of_work(world.engine, readonly=True) as session:
        return session.get(Submission, submission_id).state  # type: ignore[union-attr]


FULL_ANSWERS = {"single": ["да"], "multiple": ["ИКТ", "Инклюзия"], "number": ["12"]}


def _answers(world: World, round_id: int, given: dict[str, list[str]]) -> dict[int, list[str]]:
    from engine.models import RoundQuestion

    with unit_of_work(world.engine, readonly=True) as session:
        kinds = dict(
            session.execute(
                select(RoundQuestion.kind, RoundQuestion.id).where(
                    RoundQuestion.round_id == round_id
                )
            ).all()
        )
    return {kinds[kind]: value for kind, value in given.items()}


def _enter(world, round_id, submission_id, login, values, trigger=None, answers=FULL_ANSWERS):
    app = app_for(world.engine)
    with unit_of_work(world.engine) as session:
        return enter_and_act(
            app,
            session,
            world.actor(login),
            submission_id,
            values=values,
            answers=_answers(world, round_id, answers),
            files=[],
            trigger=trigger,
        )


def test_a_round_gives_each_participant_a_submission_due_on_its_closing_day(world):
    roadmap_id, indicators = _setup(world)
    round_id = _open(world, roadmap_id, indicators)
    with unit_of_work(world.engine, readonly=True) as session:
        rows = session.execute(
            select(Submission.assignee_id, Submission.due_on, Submission.state).where(
                Submission.round_id == round_id
            )
        ).all()
    initial = REGISTRY.for_subject(SUB).definition.initial
    assert sorted(rows) == sorted(
        [(world.school_a, CLOSES, initial), (world.school_b, CLOSES, initial)]
    )
    with unit_of_work(world.engine, readonly=True) as session:
        tasks = round_tasks(app_for(world.engine), session, world.actor("school_a"))
        others = round_tasks(app_for(world.engine), session, world.actor("school_c"))
    assert [t.round_title for t in tasks] == ["Мониторинг, I этап"] and others == []
    with unit_of_work(world.engine, readonly=True) as session:
        told = session.execute(
            select(Notification.id, Notification.user_id).where(Notification.kind == "round")
        ).all()
        messages = render(session, REGISTRY, [i for i, _ in told], "http://roadmap.test")
    staff = {world.actor("school_a").id, world.actor("school_b").id}
    assert {user for _, user in told} == staff  # each participant's staff, nobody else
    mine = _submission(world, round_id, world.school_a)
    link = next(m.link for m in messages if m.user_id == world.actor("school_a").id)
    assert link == f"http://roadmap.test/submissions/{mine}"
    assert all("до 15.03.2024" in m.body for m in messages)


def test_a_municipal_round_goes_to_the_municipality(world):
    roadmap_id, indicators = _setup(world)
    round_id = _open(world, roadmap_id, indicators, scope="municipality", questions=[])
    with unit_of_work(world.engine, readonly=True) as session:
        owners = session.execute(
            select(Submission.assignee_id).where(Submission.round_id == round_id)
        ).scalars()
        assert list(owners) == [world.municipality]


@pytest.mark.parametrize(
    ("login", "overrides", "error", "reason"),
    [
        ("school_a", {}, PermissionDeniedError, None),
        ("coord_m2", {}, PermissionDeniedError, None),
        ("coord_m1", {"indicator_ids": [999_999]}, ValidationError, "unknown_indicator"),
        ("coord_m1", {"closes_on": date(2024, 2, 1)}, ValidationError, "window_reversed"),
        (
            "coord_m1",
            {"opens_on": date(2024, 2, 1), "closes_on": date(2024, 2, 28)},
            ValidationError,
            "window_past",
        ),
        ("coord_m1", {"indicator_ids": [], "questions": []}, ValidationError, "round_empty"),
        ("coord_m1", {"title": "  "}, ValidationError, "round_title_required"),
        ("coord_m1", {"scope": "класс"}, ValidationError, "unknown_choice"),
        (
            "coord_m1",
            {"questions": [QuestionDraft("Да или нет?", "single", ("да",))]},
            ValidationError,
            "choices_required",
        ),
        (
            "coord_m1",
            {"questions": [QuestionDraft("Что?", "essay")]},
            ValidationError,
            "unknown_choice",
        ),
    ],
)
def test_a_round_is_refused_with_a_reason_and_nothing_written(
    world, login, overrides, error, reason
):
    roadmap_id, indicators = _setup(world)
    arguments = dict(
        title="Мониторинг",
        opens_on=OPENS,
        closes_on=CLOSES,
        scope="school",
        indicator_ids=indicators,
        questions=QUESTIONS,
        now=world_now(),
    )
    arguments.update(overrides)
    with pytest.raises(error) as raised, unit_of_work(world.engine) as session:
        open_round(session, REGISTRY, world.actor(login), roadmap_id, **arguments)
    if reason:
        assert raised.value.reason == reason
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(MonitoringRound)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Submission)).scalar() == 0


def test_values_are_entered_submitted_returned_and_accepted(world):
    roadmap_id, (shares, results) = _setup(world)
    round_id = _open(world, roadmap_id, [shares, results])
    mine = _submission(world, round_id, world.school_a)

    with pytest.raises(ValidationError) as missing:
        _enter(world, round_id, mine, "school_a", {shares: ("85", "")}, trigger="submit")
    assert missing.value.reason == "values_required"
    with unit_of_work(world.engine, readonly=True) as session:  # the refusal saved nothing
        assert session.execute(select(func.count()).select_from(SubmissionValue)).scalar() == 0

    with pytest.raises(ValidationError) as unanswered:
        _enter(
            world,
            round_id,
            mine,
            "school_a",
            {shares: ("85", ""), results: ("4", "")},
            trigger="submit",
            answers={"single": ["да"]},
        )
    assert unanswered.value.reason == "answers_required"

    with pytest.raises(ValidationError, match="not a number"):
        _enter(world, round_id, mine, "school_a", {shares: ("много", "")})
    with pytest.raises(ValidationError, match="not one of its choices"):
        _enter(world, round_id, mine, "school_a", {}, answers={"single": ["может быть"]})
    with pytest.raises(PermissionDeniedError):
        _enter(world, round_id, mine, "school_b", {shares: ("1", "")})
    with pytest.raises(PermissionDeniedError, match="only the assignee"):
        _enter(world, round_id, mine, "curator_a", {shares: ("1", "")})  # reaches, is not it

    _enter(world, round_id, mine, "school_a", {shares: ("85,5", "по журналу"), results: ("4", "")})
    with unit_of_work(world.engine, readonly=True) as session:
        stored = dict(
            session.execute(
                select(SubmissionValue.indicator_id, SubmissionValue.value).where(
                    SubmissionValue.submission_id == mine
                )
            ).all()
        )
    assert stored == {shares: 85.5, results: 4.0}

    _enter(world, round_id, mine, "school_a", {}, trigger="submit")
    assert REGISTRY.for_subject(SUB).definition.phase_of(_state(world, mine)) is Phase.UNDER_REVIEW
    with pytest.raises(ConflictError) as locked:
        _enter(world, round_id, mine, "school_a", {shares: ("99", "")})
    assert locked.value.reason == "values_locked"

    app = app_for(world.engine)
    with unit_of_work(world.engine, readonly=True) as session:
        queue = review_queue(app, session, world.actor("curator_a"))
        elsewhere = review_queue(app, session, world.actor("curator_bc"))
    assert [(i.kind, i.id, i.title) for i in queue.rows] == [
        ("submission", mine, "Мониторинг, I этап")
    ]
    assert elsewhere.rows == []

    with pytest.raises(PermissionDeniedError), unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, mine, "accept", world.actor("curator_bc"))
    with pytest.raises(ValidationError), unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, mine, "return", world.actor("curator_a"))
    with unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, mine, "return", world.actor("curator_a"), comment="Без ИКТ?")
    _enter(world, round_id, mine, "school_a", {shares: ("88", "")}, trigger="submit")
    with unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, mine, "accept", world.actor("curator_a"))
    assert REGISTRY.for_subject(SUB).definition.phase_of(_state(world, mine)) is Phase.DONE
    with unit_of_work(world.engine, readonly=True) as session:
        log = session.execute(
            select(TransitionLog.trigger)
            .where(TransitionLog.submission_id == mine)
            .order_by(TransitionLog.id)
        ).scalars()
        assert list(log) == ["submit", "return", "submit", "accept"]
        told = session.execute(
            select(Notification.id).where(Notification.transition_id.is_not(None))
        ).scalars()
        messages = render(session, REGISTRY, list(told), "http://roadmap.test")
    assert any(f"/submissions/{mine}" in m.link and "мониторинг" in m.body for m in messages)


def test_the_sweep_reminds_and_escalates_a_silent_participant_once_per_level(world):
    roadmap_id, indicators = _setup(world)
    round_id = _open(world, roadmap_id, indicators, questions=[])
    silent = _submission(world, round_id, world.school_b)
    # due Friday 15.03.2024: reminded two working days before, then levels 1, 2 and 3
    for when, expected in [
        ("2024-03-13 10:00", {("reminder", 0)}),
        ("2024-03-18 10:00", {("reminder", 0), ("overdue", 1)}),
        ("2024-03-21 10:00", {("reminder", 0), ("overdue", 1), ("overdue", 2)}),
        ("2024-03-26 10:00", {("reminder", 0), ("overdue", 1), ("overdue", 2), ("overdue", 3)}),
    ]:
        for _ in range(2):  # the same "now" twice: the second sweep finds nothing to do
            sweep_at(world.engine, when)
        with unit_of_work(world.engine, readonly=True) as session:
            rows = session.execute(
                select(Escalation.kind, Escalation.level).where(Escalation.submission_id == silent)
            ).all()
        assert sorted(rows) == sorted(expected), when
    with unit_of_work(world.engine, readonly=True) as session:
        escalations = session.execute(
            select(func.count()).where(Escalation.submission_id.is_not(None))
        ).scalar()
        ids = session.execute(
            select(Notification.id)
            .join(Escalation, Escalation.id == Notification.escalation_id)
            .where(Escalation.submission_id == silent)
        ).scalars()
        messages = render(session, REGISTRY, list(ids), "http://roadmap.test")
    assert escalations == 8  # both schools stayed silent: 4 steps each
    assert {m.user_id for m in messages}  # someone was told of each step
    assert all("мониторинг «Мониторинг, I этап»" in m.body for m in messages)
    assert any(m.subject.startswith("Напоминание: срок 15.03.2024") for m in messages)


def test_plan_against_actual_takes_accepted_values_round_by_round(world):
    roadmap_id, (shares, results) = _setup(world)
    first = _open(world, roadmap_id, [shares, results], questions=[])
    second = _open(
        world,
        roadmap_id,
        [shares, results],
        questions=[],
        title="Мониторинг, II этап",
        opens_on=date(2024, 5, 1),
        closes_on=date(2024, 5, 15),
    )
    figures = {
        (first, world.school_a): ("70", "3,6"),
        (first, world.school_b): ("80", "3,8"),
        (second, world.school_a): ("86", "7"),
        (second, world.school_b): ("90", "9"),
    }
    for (round_id, school), (share, result) in figures.items():
        login = "school_a" if school == world.school_a else "school_b"
        submission = _submission(world, round_id, school)
        _enter(
            world,
            round_id,
            submission,
            login,
            {shares: (share, ""), results: (result, "")},
            trigger="submit",
            answers={},
        )
        curator = "curator_a" if school == world.school_a else "curator_bc"
        if (round_id, school) != (second, world.school_b):  # one stays under review
            with unit_of_work(world.engine) as session:
                fire(session, REGISTRY, SUB, submission, "accept", world.actor(curator))
    app = app_for(world.engine)
    with unit_of_work(world.engine, readonly=True) as session:
        tracks = plan_against_actual(app, session, world.actor("coord_m1"), roadmap_id).tracks
        mine = plan_against_actual(app, session, world.actor("school_a"), roadmap_id).tracks
    by_indicator = {t.indicator.id: t for t in tracks}
    assert [r.value for r in by_indicator[shares].rounds] == [75.0, 86.0]
    assert [r.count for r in by_indicator[shares].rounds] == [2, 1]
    assert by_indicator[shares].mark == Mark.AT_RISK  # 86 of at least 90: 4 short, within 9
    assert by_indicator[results].mark == Mark.OFF_TRACK  # 7 − 3.5 = 3.5 of +5: 1.5 short
    assert [r.value for r in {t.indicator.id: t for t in mine}[shares].rounds] == [70.0, 86.0]
    assert by_indicator[shares].places == [("Район 1", [75.0, 86.0])]
    with unit_of_work(world.engine, readonly=True) as session:
        schools = plan_against_actual(
            app, session, world.actor("coord_m1"), roadmap_id, by_municipality=False
        )
    per_school = {t.indicator.id: t for t in schools.tracks}[shares].places
    assert per_school == [("Школа А", [70.0, 86.0]), ("Школа Б", [80.0, None])]


@pytest.mark.parametrize(
    ("direction", "target", "baseline", "value", "mark"),
    [
        ("at_least", 90, None, 90, Mark.ON_TRACK),
        ("at_least", 90, None, 81, Mark.AT_RISK),
        ("at_least", 90, None, 80.9, Mark.OFF_TRACK),
        ("at_most", 10, None, 10, Mark.ON_TRACK),
        ("at_most", 10, None, 11, Mark.AT_RISK),
        ("at_most", 10, None, 12, Mark.OFF_TRACK),
        ("exactly", 100, None, 100, Mark.ON_TRACK),
        ("exactly", 100, None, 95, Mark.AT_RISK),
        ("increase_by", 5, 50, 55, Mark.ON_TRACK),
        ("increase_by", 5, 50, 54.6, Mark.AT_RISK),
        ("increase_by", 5, 50, 52, Mark.OFF_TRACK),
        ("decrease_by", 5, 20, 15, Mark.ON_TRACK),
        ("decrease_by", 5, 20, 18, Mark.OFF_TRACK),
        ("increase_by", 5, None, 55, None),
        ("at_least", None, None, 55, None),
        ("at_least", 90, None, None, None),
    ],
)
def test_track_mark_follows_its_rule(direction, target, baseline, value, mark):
    assert track_mark(direction, target, baseline, value) == mark


@pytest.mark.parametrize(
    ("direction", "target", "baseline", "goal"),
    [
        ("at_least", 90, 10, 90),
        ("increase_by", 5, 38, 43),
        ("decrease_by", 5, 20, 15),
        ("increase_by", 5, None, None),
        (None, 5, None, None),
    ],
)
def test_the_goal_is_the_target_or_the_baseline_moved_by_it(direction, target, baseline, goal):
    assert goal_of(direction, target, baseline) == goal


def test_the_survey_is_added_up_over_what_was_sent(world):
    roadmap_id, (shares, results) = _setup(world)
    round_id = _open(world, roadmap_id, [shares])
    for login, school, answers in [
        ("school_a", world.school_a, FULL_ANSWERS),
        ("school_b", world.school_b, {"single": ["нет"], "multiple": ["ИКТ"], "number": ["30"]}),
    ]:
        submission = _submission(world, round_id, school)
        _enter(world, round_id, submission, login, {shares: ("50", "")}, "submit", answers)
    app = app_for(world.engine)
    with unit_of_work(world.engine, readonly=True) as session:
        detail = round_detail(app, session, world.actor("coord_m1"), round_id)
        own = round_detail(app, session, world.actor("school_a"), round_id)
    by_kind = {q.kind: detail.tallies[q.id] for q in detail.questions}
    assert by_kind["single"].counts == {"да": 1, "нет": 1}
    assert by_kind["multiple"].counts == {"ИКТ": 2, "Инклюзия": 1}
    assert (by_kind["number"].mean, by_kind["number"].low, by_kind["number"].high) == (21, 12, 30)
    assert detail.participants.total == 2
    assert own.participants.total == 1 and own.own_submission is not None
    with pytest.raises(DomainError), unit_of_work(world.engine, readonly=True) as session:
        round_detail(app, session, world.actor("school_c"), round_id)


def test_save_entries_refuses_a_value_for_an_indicator_not_asked(world):
    roadmap_id, (shares, results) = _setup(world)
    round_id = _open(world, roadmap_id, [shares])
    mine = _submission(world, round_id, world.school_a)
    with pytest.raises(ValidationError) as raised, unit_of_work(world.engine) as session:
        save_entries(
            session,
            REGISTRY,
            world.actor("school_a"),
            mine,
            values={results: ("5", "")},
            answers={},
            now=world_now(),
        )
    assert raised.value.reason == "unknown_indicator"


@pytest.mark.postgres_only
def test_two_connections_accepting_one_submission_one_wins(world, db_url, monkeypatch):
    """A holds its acceptance uncommitted; B reads the old state, blocks, then loses."""
    roadmap_id, (shares, results) = _setup(world)
    round_id = _open(world, roadmap_id, [shares, results], questions=[])
    submission = _submission(world, round_id, world.school_a)
    _enter(
        world,
        round_id,
        submission,
        "school_a",
        {shares: ("1", ""), results: ("2", "")},
        "submit",
        {},
    )
    curator = world.actor("curator_a")
    second = make_engine(db_url)
    b_read = threading.Event()
    outcome: dict[str, object] = {}
    real_read = fire_module.read_standing

    def read_and_signal(connection, kind, subject_id, actor):
        standing = real_read(connection, kind, subject_id, actor)
        b_read.set()
        return standing

    def accept_in_b() -> None:
        try:
            with unit_of_work(second) as session:
                outcome["b"] = fire(session, REGISTRY, SUB, submission, "accept", curator)
        except DomainError as error:
            outcome["b"] = error

    with unit_of_work(world.engine) as session_a:
        fire(session_a, REGISTRY, SUB, submission, "accept", curator)
        monkeypatch.setattr(fire_module, "read_standing", read_and_signal)
        thread = threading.Thread(target=accept_in_b)
        thread.start()
        assert b_read.wait(10), "B never read the submission"
        thread.join(0.5)
        assert thread.is_alive(), "B should be blocked on A's row lock"
    thread.join(10)
    second.dispose()
    assert isinstance(outcome["b"], ConflictError)
    with unit_of_work(world.engine, readonly=True) as session:
        accepted = session.execute(
            select(func.count()).where(
                TransitionLog.submission_id == submission, TransitionLog.trigger == "accept"
            )
        ).scalar_one()
    assert accepted == 1
    assert POLICIES.for_subject(SUB).workflow == "monitoring"


def test_a_municipality_answers_for_itself_and_the_region_decides(world):
    roadmap_id, (shares, results) = _setup(world)
    round_id = _open(world, roadmap_id, [shares], scope="municipality", questions=[])
    own = _submission(world, round_id, world.municipality)
    with pytest.raises(PermissionDeniedError):
        _enter(world, round_id, own, "school_a", {shares: ("60", "")}, answers={})
    _enter(world, round_id, own, "coord_m1", {shares: ("60", "")}, "submit", {})
    app = app_for(world.engine)
    with unit_of_work(world.engine, readonly=True) as session:
        regional = review_queue(app, session, world.actor("regional"))
        curators = review_queue(app, session, world.actor("curator_a"))
    assert [(i.kind, i.id) for i in regional.rows] == [("submission", own)]
    assert curators.rows == []
    with pytest.raises(PermissionDeniedError), unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, own, "accept", world.actor("coord_m1"))  # not its own
    with unit_of_work(world.engine) as session:
        fire(session, REGISTRY, SUB, own, "accept", world.actor("regional"))
    assert REGISTRY.for_subject(SUB).definition.phase_of(_state(world, own)) is Phase.DONE
