"""The transition service against real databases: rules, roles, tenants, log and outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

import engine.lifecycle.fire as workflow_module
from engine.db import on_commit, unit_of_work
from engine.errors import (
    ConflictError,
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
)
from engine.lifecycle.definition import SubjectKind, WorkflowDefinition, WorkflowRegistry
from engine.lifecycle.fire import fire
from engine.models import Comment, Notification, Occurrence, TransitionLog
from engine.work import evidence
from engine.work.roadmaps import add_occurrences
from tests.factories import World, add_document, fire_as
from workflows.guards import GUARDS

OCC = SubjectKind.OCCURRENCE
PDF = b"%PDF-1.4 evidence"


def _log(world: World, occurrence_id: int) -> list[tuple[str, str, str, str | None]]:
    with unit_of_work(world.engine, readonly=True) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    TransitionLog.trigger,
                    TransitionLog.from_state,
                    TransitionLog.to_state,
                    TransitionLog.comment,
                )
                .where(TransitionLog.occurrence_id == occurrence_id)
                .order_by(TransitionLog.id)
            )
        ]


def _count(world: World, model) -> int:
    with unit_of_work(world.engine, readonly=True) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_full_lifecycle_with_return_and_rework(world: World, registry) -> None:
    occ = world.occurrence_a
    assert fire_as(world, registry, occ, "start", "school_a").to_state == "in_progress"
    fire_as(world, registry, occ, "report", "school_a", report_text="Проведено 3 консультации")
    fire_as(world, registry, occ, "return", "curator_a", comment="Приложите журнал")
    fire_as(world, registry, occ, "rework", "school_a")
    fire_as(world, registry, occ, "report", "school_a", report_text="Журнал приложен")
    result = fire_as(world, registry, occ, "approve", "curator_a")
    assert (result.from_state, result.to_state, result.version) == ("reported", "approved", 7)
    assert world.state(occ) == "approved"
    assert _log(world, occ) == [
        ("start", "planned", "in_progress", None),
        ("report", "in_progress", "reported", None),
        ("return", "reported", "returned", "Приложите журнал"),
        ("rework", "returned", "in_progress", None),
        ("report", "in_progress", "reported", None),
        ("approve", "reported", "approved", None),
    ]
    with unit_of_work(world.engine, readonly=True) as session:
        reports = (
            session.execute(
                select(Comment.body).where(Comment.occurrence_id == occ).order_by(Comment.id)
            )
            .scalars()
            .all()
        )
    assert reports == ["Проведено 3 консультации", "Журнал приложен"]


def test_report_needs_evidence_or_written_report(world: World, registry, tmp_path) -> None:
    occ = world.occurrence_a
    fire_as(world, registry, occ, "start", "school_a")
    with pytest.raises(ValidationError, match="evidence file or write a report"):
        fire_as(world, registry, occ, "report", "school_a", report_text="   ")
    assert world.state(occ) == "in_progress"
    assert len(_log(world, occ)) == 1
    with unit_of_work(world.engine) as session:
        evidence.attach(
            session,
            registry,
            tmp_path,
            OCC,
            occ,
            world.actor("school_a"),
            filename="акт.pdf",
            data=PDF,
            max_bytes=1000,
        )
    assert fire_as(world, registry, occ, "report", "school_a").to_state == "reported"


def test_illegal_trigger_is_a_domain_error_naming_state_and_allowed(world, registry) -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        fire_as(world, registry, world.occurrence_a, "approve", "curator_a")
    assert caught.value.state == "planned"
    assert caught.value.allowed == ["cancel", "start"]
    assert _log(world, world.occurrence_a) == []


@pytest.mark.parametrize(
    ("login", "trigger", "occurrence"),
    [
        ("curator_a", "start", "occurrence_a"),  # right tenant, wrong role
        ("school_b", "start", "occurrence_a"),  # another school's occurrence
        ("curator_bc", "start", "occurrence_a"),  # a curator of other schools
        ("coord_m2", "cancel", "occurrence_a"),  # a coordinator of another municipality
        ("admin", "start", "occurrence_a"),  # admin fires no lifecycle trigger
    ],
)
def test_forbidden_actors_get_permission_errors(world, registry, login, trigger, occurrence):
    occ = getattr(world, occurrence)
    with pytest.raises(PermissionDeniedError):
        fire_as(world, registry, occ, trigger, login, comment="причина")
    assert world.state(occ) == "planned"


def test_curator_acts_only_for_assigned_schools(world: World, registry) -> None:
    for occ, school in [(world.occurrence_a, "school_a"), (world.occurrence_b, "school_b")]:
        fire_as(world, registry, occ, "start", school)
        fire_as(world, registry, occ, "report", school, report_text="готово")
    with pytest.raises(PermissionDeniedError):
        fire_as(world, registry, world.occurrence_b, "approve", "curator_a")
    assert (
        fire_as(world, registry, world.occurrence_b, "approve", "curator_bc").to_state == "approved"
    )
    assert world.state(world.occurrence_b) == "approved"


def test_return_and_cancel_require_a_comment(world: World, registry) -> None:
    occ = world.occurrence_a
    with pytest.raises(ValidationError, match="requires a comment"):
        fire_as(world, registry, occ, "cancel", "coord_m1", comment="  ")
    result = fire_as(world, registry, occ, "cancel", "coord_m1", comment="Мероприятие отменено")
    assert result.to_state == "cancelled"
    assert (
        fire_as(
            world, registry, world.occurrence_c, "cancel", "regional", comment="Решение региона"
        ).to_state
        == "cancelled"
    )


def test_stale_read_loses_to_the_database(world: World, registry, monkeypatch) -> None:
    """The guarded UPDATE, not the read, decides: a stale version gets ConflictError."""
    occ = world.occurrence_a
    real_read = workflow_module.read_standing

    def stale_read(connection, kind, subject_id, actor):
        standing = real_read(connection, kind, subject_id, actor)
        connection.execute(
            text("UPDATE occurrence SET version = version + 1 WHERE id = :id"), {"id": subject_id}
        )
        return standing

    monkeypatch.setattr(workflow_module, "read_standing", stale_read)
    with pytest.raises(ConflictError):
        fire_as(world, registry, occ, "start", "school_a")
    monkeypatch.undo()
    assert world.state(occ) == "planned"
    assert _log(world, occ) == []


def test_occurrence_keeps_the_version_it_started_under(world: World, registry) -> None:
    v1 = registry.get("activity", 1).definition
    # v2: curators may no longer return; approval is all there is.
    v2 = WorkflowDefinition(
        name="activity",
        version=2,
        subject="occurrence",
        initial="planned",
        states=v1.states,
        rules=tuple(r for r in v1.rules if r.trigger != "return"),
        evidence_guard=v1.evidence_guard,
    )
    both = WorkflowRegistry([v1, v2], GUARDS)
    with unit_of_work(world.engine) as session:
        add_occurrences(session, both.current("activity"), world.activity, [world.school_a], [None])
        new_occ = session.execute(
            select(Occurrence.id).where(Occurrence.workflow_version == 2)
        ).scalar_one()
    for occ in (world.occurrence_a, new_occ):
        fire_as(world, both, occ, "start", "school_a")
        fire_as(world, both, occ, "report", "school_a", report_text="готово")
    assert (
        fire_as(
            world, both, world.occurrence_a, "return", "curator_a", comment="доработать"
        ).to_state
        == "returned"
    )
    with pytest.raises(InvalidTransitionError):
        fire_as(world, both, new_occ, "return", "curator_a", comment="доработать")


def test_document_review_ends_approved_or_returned(world: World, registry, tmp_path) -> None:
    doc = add_document(world, registry, world.school_a)
    kind = SubjectKind.DOCUMENT
    with pytest.raises(ValidationError, match="attach the document file"):
        fire_as(world, registry, doc, "submit", "school_a", kind=kind)
    with unit_of_work(world.engine) as session:
        evidence.attach(
            session,
            registry,
            tmp_path,
            kind,
            doc,
            world.actor("school_a"),
            filename="самодиагностика.pdf",
            data=PDF,
            max_bytes=1000,
        )
    fire_as(world, registry, doc, "submit", "school_a", kind=kind)
    with pytest.raises(ValidationError):
        fire_as(world, registry, doc, "return", "curator_a", kind=kind)
    with pytest.raises(PermissionDeniedError):
        fire_as(world, registry, doc, "approve", "curator_bc", kind=kind)
    fire_as(world, registry, doc, "return", "curator_a", kind=kind, comment="Нет подписи")
    fire_as(world, registry, doc, "submit", "school_a", kind=kind)
    result = fire_as(world, registry, doc, "approve", "curator_a", kind=kind)
    assert result.to_state == "approved"
    assert registry.current("document_review").definition.state_label("approved") == "ОДОБРЕНО"
    with unit_of_work(world.engine, readonly=True) as session:
        triggers = (
            session.execute(
                select(TransitionLog.trigger)
                .where(TransitionLog.document_id == doc)
                .order_by(TransitionLog.id)
            )
            .scalars()
            .all()
        )
    assert triggers == ["submit", "return", "submit", "approve"]


def test_side_effects_are_recorded_in_the_transaction_and_run_after_commit(world, registry):
    for occ, school in [(world.occurrence_a, "school_a"), (world.occurrence_b, "school_b")]:
        fire_as(world, registry, occ, "start", school)
    seen: list[int] = []

    def count_notifications_from_outside() -> None:
        seen.append(_count(world, Notification))

    with unit_of_work(world.engine) as session:
        fire(
            session,
            registry,
            OCC,
            world.occurrence_a,
            "report",
            world.actor("school_a"),
            report_text="готово",
        )
        on_commit(session, count_notifications_from_outside)
        assert seen == []  # not yet: the transaction is still open
    assert seen == [1]  # after commit, and visible to another connection: curator_a is told

    with pytest.raises(RuntimeError):
        with unit_of_work(world.engine) as session:
            fire(
                session,
                registry,
                OCC,
                world.occurrence_b,
                "report",
                world.actor("school_b"),
                report_text="готово",
            )
            on_commit(session, count_notifications_from_outside)
            raise RuntimeError("something failed after the transition")
    assert seen == [1]  # never ran for the rolled-back transaction
    assert world.state(world.occurrence_b) == "in_progress"
    assert _count(world, Notification) == 1
    assert [t for t, *_ in _log(world, world.occurrence_b)] == ["start"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transition_log SET comment = 'подделка'",
        "DELETE FROM transition_log",
        "UPDATE comment SET body = 'подделка'",
        "DELETE FROM comment",
    ],
)
def test_audit_trail_is_append_only(world: World, registry, statement: str) -> None:
    fire_as(world, registry, world.occurrence_a, "start", "school_a")
    fire_as(world, registry, world.occurrence_a, "report", "school_a", report_text="отчёт")
    with pytest.raises(Exception, match="append-only"):
        with unit_of_work(world.engine) as session:
            session.execute(text(statement))
    assert len(_log(world, world.occurrence_a)) == 2
    assert _count(world, Comment) == 1


def _municipal_occurrence(world: World, registry) -> int:
    with unit_of_work(world.engine) as session:
        add_occurrences(
            session, registry.current("activity"), world.activity, [world.municipality], [None]
        )
        return session.execute(
            select(Occurrence.id).where(Occurrence.assignee_id == world.municipality)
        ).scalar_one()


def test_the_municipality_does_its_own_work_and_the_region_reviews_it(world, registry):
    occ = _municipal_occurrence(world, registry)
    with pytest.raises(PermissionDeniedError):  # not the school's occurrence
        fire_as(world, registry, occ, "start", "school_a")
    with pytest.raises(PermissionDeniedError):  # another municipality's coordinator
        fire_as(world, registry, occ, "start", "coord_m2")
    fire_as(world, registry, occ, "start", "coord_m1")
    fire_as(world, registry, occ, "report", "coord_m1", report_text="Совещание проведено")
    with pytest.raises(PermissionDeniedError, match="outside their schools"):
        fire_as(world, registry, occ, "approve", "curator_a")  # curators review schools only
    assert fire_as(world, registry, occ, "approve", "regional").to_state == "approved"


def test_coordinators_do_not_act_for_schools_nor_review_them(world, registry) -> None:
    occ = world.occurrence_a
    with pytest.raises(PermissionDeniedError, match="not the assignee"):
        fire_as(world, registry, occ, "start", "coord_m1")
    fire_as(world, registry, occ, "start", "school_a")
    fire_as(world, registry, occ, "report", "school_a", report_text="готово")
    with pytest.raises(PermissionDeniedError, match="not the reviewer"):
        fire_as(world, registry, occ, "approve", "regional")
    assert world.state(occ) == "reported"


@pytest.mark.parametrize(("field", "limit"), [("comment", 5_000), ("report_text", 20_000)])
def test_overlong_text_is_refused_before_anything_is_written(world, registry, field, limit) -> None:
    fire_as(world, registry, world.occurrence_a, "start", "school_a")
    with pytest.raises(ValidationError) as refused, unit_of_work(world.engine) as session:
        fire(session, registry, OCC, world.occurrence_a, "report", world.actor("school_a"),
             **{field: "щ" * (limit + 1)})  # fmt: skip
    assert refused.value.reason == "text_too_long"
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.get(Occurrence, world.occurrence_a).state == "in_progress"
    with unit_of_work(world.engine) as session:  # at the limit it is fine
        fire(session, registry, OCC, world.occurrence_a, "report", world.actor("school_a"),
             **{field: "щ" * limit, "report_text": "отчёт"} if field == "comment"
             else {field: "щ" * limit})  # fmt: skip
