"""Lifecycle meaning carries through: rename a state in its definition and the queue, the
sweep and the dashboard follow; a policy that names a missing phase fails at start."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import Engine

import workflows
from engine.app import App, Catalog
from engine.db import unit_of_work
from engine.escalation.policy import PolicyBook
from engine.escalation.sweep import sweep
from engine.lifecycle.definition import (
    DefinitionError,
    Phase,
    Rule,
    State,
    SubjectKind,
    WorkflowDefinition,
    WorkflowRegistry,
)
from engine.lifecycle.fire import fire
from engine.readmodels.progress import dashboard
from engine.readmodels.review import review_queue
from engine.settings import Settings
from tests.factories import POLICIES, app_for, build_world
from tests.sweeping import at
from workflows.activity import ACTIVITY_V1
from workflows.document_review import DOCUMENT_REVIEW_V1
from workflows.escalation import ACTIVITY_POLICY, DOCUMENT_REVIEW_POLICY
from workflows.guards import GUARDS

SETTINGS = Settings.from_env({"DATABASE_URL": "sqlite://"})
NEW_NAME = "awaiting_verdict"


def renamed(definition: WorkflowDefinition, old: str, new: str) -> WorkflowDefinition:
    """The same lifecycle with one state called otherwise."""

    def name(state: str) -> str:
        return new if state == old else state

    states = tuple(dataclasses.replace(s, name=name(s.name)) for s in definition.states)
    rules = tuple(
        Rule(
            r.trigger,
            tuple(map(name, r.sources)),
            name(r.dest),
            r.roles,
            r.label,
            r.party,
            r.requires_comment,
            r.guards,
            r.notify,
            r.notice,
            r.emphasis,
        )
        for r in definition.rules
    )
    return WorkflowDefinition(
        definition.name,
        definition.version,
        definition.subject,
        name(definition.initial),
        states,
        rules,
        definition.evidence_guard,
    )


def _under_review_state() -> str:
    (state,) = ACTIVITY_V1.states_in(Phase.UNDER_REVIEW)
    return state


def test_renaming_the_reported_state_carries_through(db: Engine) -> None:
    old = _under_review_state()
    others = [d for d in workflows.DEFINITIONS if d is not ACTIVITY_V1]
    registry = WorkflowRegistry([renamed(ACTIVITY_V1, old, NEW_NAME), *others], GUARDS)
    policies = PolicyBook(workflows.POLICIES, registry)
    app = App(SETTINGS, db, registry, policies)
    world = build_world(db, registry)
    reported_at = at("2024-03-20 10:00")
    definition = registry.for_subject(SubjectKind.OCCURRENCE).definition
    for phase in (Phase.OPEN, Phase.UNDER_REVIEW):
        rule = definition.rule_into(world.state(world.occurrence_a), phase)
        assert rule is not None
        with unit_of_work(db) as session:
            fire(
                session,
                registry,
                SubjectKind.OCCURRENCE,
                world.occurrence_a,
                rule.trigger,
                world.actor("school_a"),
                report_text="сделано",
                now=reported_at,
            )
    assert world.state(world.occurrence_a) == NEW_NAME

    with unit_of_work(db, readonly=True) as session:
        queue = review_queue(app, session, world.actor("curator_a"))
        schools, _ = dashboard(app, session, world.actor("coord_m1"), date(2024, 3, 21))
    assert [item.id for item in queue.rows] == [world.occurrence_a]
    assert {s.school_id: s.reported for s in schools} == {world.school_a: 1, world.school_b: 0}

    result = sweep(db, policies, at("2024-04-02 10:00"))
    assert result.review_escalations == 1
    assert result.escalations[1] == 2  # the two schools that never reported are overdue


def test_a_policy_naming_a_phase_no_state_has_fails_at_start() -> None:
    bad = dataclasses.replace(DOCUMENT_REVIEW_POLICY, due_phase=Phase.CANCELLED)
    catalog = Catalog(workflows.DEFINITIONS, GUARDS, (ACTIVITY_POLICY, bad))
    with pytest.raises(DefinitionError, match="due phase 'cancelled'.*document_review"):
        App.build(SETTINGS, catalog)


def test_a_policy_for_an_unknown_workflow_fails_at_start() -> None:
    stray = dataclasses.replace(ACTIVITY_POLICY, workflow="no_such_workflow")
    catalog = Catalog(workflows.DEFINITIONS, GUARDS, (stray, DOCUMENT_REVIEW_POLICY))
    with pytest.raises(DefinitionError, match="'no_such_workflow', which is not defined"):
        App.build(SETTINGS, catalog)


def test_a_workflow_without_a_review_phase_fails_at_start() -> None:
    no_review = dataclasses.replace(
        DOCUMENT_REVIEW_V1,
        states=tuple(
            State(s.name, s.label, Phase.OPEN if s.phase is Phase.UNDER_REVIEW else s.phase)
            for s in DOCUMENT_REVIEW_V1.states
        ),
        _by_state={},
    )
    catalog = Catalog((ACTIVITY_V1, no_review), GUARDS, workflows.POLICIES)
    with pytest.raises(DefinitionError, match="under_review"):
        App.build(SETTINGS, catalog)


def test_one_state_name_with_two_phases_is_refused() -> None:
    v2 = dataclasses.replace(
        ACTIVITY_V1,
        version=2,
        states=tuple(
            State(s.name, s.label, Phase.DONE if s.phase is Phase.UNDER_REVIEW else s.phase)
            for s in ACTIVITY_V1.states
        ),
        _by_state={},
    )
    with pytest.raises(DefinitionError, match="elsewhere"):
        WorkflowRegistry([ACTIVITY_V1, v2], GUARDS)


def test_the_queue_gives_each_school_its_municipality_review_days(world, registry) -> None:
    app = app_for(world.engine)
    workflow = ACTIVITY_POLICY.workflow
    with unit_of_work(world.engine) as session:
        POLICIES.set_override(session, world.municipality, workflow, review_days=1)
    definition = registry.for_subject(SubjectKind.OCCURRENCE).definition
    for login, occurrence in (("school_b", world.occurrence_b), ("school_c", world.occurrence_c)):
        for phase in (Phase.OPEN, Phase.UNDER_REVIEW):
            rule = definition.rule_into(world.state(occurrence), phase)
            assert rule is not None
            with unit_of_work(world.engine) as session:
                fire(
                    session,
                    registry,
                    SubjectKind.OCCURRENCE,
                    occurrence,
                    rule.trigger,
                    world.actor(login),
                    report_text="сделано",
                )
    with unit_of_work(world.engine, readonly=True) as session:
        queue = review_queue(app, session, world.actor("curator_bc"))
    days = {item.id: item.review_days for item in queue.rows}
    # school B lies in the municipality with its own policy; school C keeps the default
    assert days == {world.occurrence_b: 1, world.occurrence_c: ACTIVITY_POLICY.review_days}
