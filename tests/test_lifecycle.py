"""Pure lifecycle tests: definitions, the machine adapter and snapshots. No database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import workflows
from engine.errors import InvalidTransitionError, ValidationError
from engine.lifecycle.definition import Lifecycle, Rule, State, WorkflowDefinition, WorkflowRegistry
from tests.factories import REGISTRY
from workflows.guards import GUARDS

SNAPSHOTS = Path(__file__).with_name("snapshots")
ALLOW = {"ok": lambda ctx: None, "never": lambda ctx: "не выполнено условие"}


@pytest.mark.parametrize("definition", workflows.DEFINITIONS, ids=lambda d: d.name)
def test_definition_matches_snapshot(definition: WorkflowDefinition) -> None:
    """Any change to a lifecycle shows up as a diff of its snapshot file."""
    path = SNAPSHOTS / f"{definition.name}_v{definition.version}.json"
    exported = json.dumps(definition.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(exported, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == exported


def test_activity_happy_path_and_rework() -> None:
    lifecycle = REGISTRY.for_subject("occurrence")
    state = "planned"
    for trigger, expected in [
        ("start", "in_progress"),
        ("report", "reported"),
        ("return", "returned"),
        ("rework", "in_progress"),
        ("report", "reported"),
        ("approve", "approved"),
    ]:
        state = lifecycle.advance(state, trigger, _ctx_with_report())
        assert state == expected


def test_illegal_trigger_names_state_and_allowed_triggers() -> None:
    lifecycle = REGISTRY.for_subject("occurrence")
    with pytest.raises(InvalidTransitionError) as caught:
        lifecycle.advance("planned", "approve", None)
    assert caught.value.state == "planned"
    assert caught.value.allowed == ["cancel", "start"]
    assert "planned" in str(caught.value) and "start" in str(caught.value)


def test_no_automatic_back_doors() -> None:
    """auto_transitions=False: no state grows a to_<state>() trigger."""
    lifecycle = REGISTRY.for_subject("occurrence")
    with pytest.raises(InvalidTransitionError):
        lifecycle.advance("planned", "to_approved", None)


def test_final_states_have_no_way_out() -> None:
    for definition in workflows.DEFINITIONS:
        for state in definition.states:
            if state.final:
                assert definition.triggers_from(state.name) == []


def test_guard_message_is_raised() -> None:
    definition = WorkflowDefinition(
        name="t",
        version=1,
        subject="occurrence",
        initial="a",
        states=(State("a", "А"), State("b", "Б")),
        rules=(Rule("go", ("a",), "b", frozenset({"school"}), "Вперёд", guards=("never",)),),
    )
    with pytest.raises(ValidationError, match="не выполнено условие"):
        Lifecycle(definition, ALLOW).advance("a", "go", None)


def test_definitions_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="unknown state"):
        WorkflowDefinition(
            "t",
            1,
            "occurrence",
            "a",
            (State("a", "А"),),
            (Rule("go", ("a",), "zz", frozenset(), "x"),),
        )
    with pytest.raises(ValueError, match="unknown initial"):
        WorkflowDefinition("t", 1, "occurrence", "zz", (State("a", "А"),), ())
    bad_guard = WorkflowDefinition(
        "t",
        1,
        "occurrence",
        "a",
        (State("a", "А"),),
        (Rule("go", ("a",), "a", frozenset(), "x", guards=("typo",)),),
    )
    with pytest.raises(ValueError, match="unknown guards"):
        WorkflowRegistry([bad_guard], GUARDS)
    with pytest.raises(ValueError, match="given twice"):
        WorkflowRegistry([workflows.ACTIVITY_V1, workflows.ACTIVITY_V1], GUARDS)


def test_registry_serves_every_version_and_the_newest_as_current() -> None:
    v2 = WorkflowDefinition(
        name="activity",
        version=2,
        subject="occurrence",
        initial="planned",
        states=workflows.ACTIVITY_V1.states,
        rules=workflows.ACTIVITY_V1.rules[:1],
    )
    registry = WorkflowRegistry([workflows.ACTIVITY_V1, v2], GUARDS)
    assert registry.current("activity").definition.version == 2
    assert registry.get("activity", 1).definition is workflows.ACTIVITY_V1


def test_evidence_is_accepted_only_where_a_rule_checks_for_it() -> None:
    activity = workflows.ACTIVITY_V1
    assert activity.accepts_evidence("in_progress")
    assert not activity.accepts_evidence("approved")
    assert not activity.accepts_evidence("reported")
    review = workflows.DOCUMENT_REVIEW_V1
    assert review.accepts_evidence("draft") and review.accepts_evidence("returned")
    assert not review.accepts_evidence("submitted")


class _Ctx:
    """A guard context with a written report and nothing else."""

    report_text = "отчёт"


def _ctx_with_report() -> object:
    return _Ctx()


@given(
    st.lists(
        st.sampled_from(
            ["start", "report", "approve", "return", "rework", "cancel", "submit", "to_planned"]
        ),
        max_size=30,
    )
)
def test_machine_agrees_with_the_data(triggers: list[str]) -> None:
    """Whatever is fired, the machine accepts what the rules say and goes where they say."""
    definition = workflows.ACTIVITY_V1
    lifecycle = Lifecycle(definition, {name: (lambda ctx: None) for name in GUARDS})
    state = definition.initial
    for trigger in triggers:
        rule = definition.rule(trigger, state)
        if rule is None:
            with pytest.raises(InvalidTransitionError):
                lifecycle.advance(state, trigger, None)
        else:
            state = lifecycle.advance(state, trigger, None)
            assert state == rule.dest
