"""The benchmark's own parts: the BPMN model SpiffWorkflow runs, and the generated data set."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from SpiffWorkflow.util.task import TaskState

from bench import data, spiff
from bench.clock import NOW, YESTERDAY


def _ready(lifecycle: spiff.SpiffLifecycle, state: str) -> list[str]:
    workflow = lifecycle.serializer.deserialize_json(state)
    return sorted(
        t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual
    )


def test_the_bpmn_lifecycle_runs_start_report_approve_to_its_end() -> None:
    lifecycle = spiff.SpiffLifecycle()
    state = lifecycle.new_instance()
    assert _ready(lifecycle, state) == ["start_work"]
    for name, values in spiff.STEPS:
        assert not lifecycle.completed(state)
        state = lifecycle.advance(state, name, values)
    assert lifecycle.completed(state)


def test_returning_for_rework_goes_back_to_the_report() -> None:
    lifecycle = spiff.SpiffLifecycle()
    state = lifecycle.advance(lifecycle.new_instance(), "start_work", {})
    state = lifecycle.advance(state, "report", {})
    state = lifecycle.advance(state, "review", {"verdict": "return"})
    assert _ready(lifecycle, state) == ["report"]
    assert not lifecycle.completed(state)
    with pytest.raises(RuntimeError, match="review is not the one ready task"):
        lifecycle.advance(state, "review", {"verdict": "approve"})


def test_the_deadline_timer_waits_beside_the_report() -> None:
    lifecycle = spiff.SpiffLifecycle()
    state = lifecycle.advance(lifecycle.new_instance(), "start_work", {})
    workflow = lifecycle.serializer.deserialize_json(state)
    waiting = [t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)]
    assert "deadline" in waiting
    assert "deadline" in json.loads(state)["spec"]["task_specs"]


@pytest.mark.postgres_only
def test_the_data_set_has_its_shape() -> None:
    name = f"roadmap_bench_test_{uuid.uuid4().hex[:8]}"
    built = data.build(name, 10, years=2, municipalities=5)
    try:
        with psycopg.connect(built.url) as conn:

            def one(sql: str, *params: object) -> int:
                return conn.execute(sql, params).fetchone()[0]

            assert built.occurrences == one("SELECT count(*) FROM occurrence") > 1000
            assert built.falling_due == built.occurrences // 100
            open_yesterday = (
                "SELECT count(*) FROM occurrence WHERE due_on = %s AND state = 'planned'"
            )
            assert one(open_yesterday, YESTERDAY) == built.falling_due
            assert one("SELECT count(*) FROM occurrence WHERE due_on < %s AND state <> "
                       "'approved'", NOW.date()) == built.falling_due  # fmt: skip
            assert one("SELECT count(*) FROM occurrence WHERE state = 'reported'") > 0
            assert one("SELECT count(*) FROM roadmap") == 3 * 5
            assert one("SELECT count(*) FROM organization WHERE kind = 'municipality'") == 5
            schools = (
                "SELECT count(DISTINCT assignee_id) FROM occurrence o "
                "JOIN organization s ON s.id = o.assignee_id WHERE s.kind = 'school'"
            )
            assert one(schools) == 10
            # the dashboards' tally is current, as the product's scheduler would leave it
            assert one("SELECT count(*) FROM progress_tally_day WHERE as_of IS NOT NULL") == 1
            assert one("SELECT sum(n) FROM progress_tally") == built.occurrences
            assert one("SELECT count(*) FROM app_user WHERE login = 'approver'") == 1
        assert set(built.imports) == {path.name for path in data.seed_files()}
    finally:
        with psycopg.connect(data.admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_figure_in_rounds_is_its_median_and_range_and_says_when_its_goal_is_in_it() -> None:
    from bench.spread import spread, verdict

    figure = spread([0.61, 0.47, 0.55, 0.52, 0.58])
    assert figure == {"median": 0.55, "min": 0.47, "max": 0.61}
    assert verdict(figure, 0.5) == "met, within the spread"
    assert verdict(figure, 0.6) == "missed, within the spread"
    assert verdict(figure, 0.4) == "met" and verdict(figure, 0.7) == "missed"
    assert verdict(spread([1.9, 2.4, 2.2]), 2.0, at_least=False) == "missed, within the spread"
    assert verdict(spread([1.5, 1.7]), 2.0, at_least=False) == "met"
    with pytest.raises(ValueError, match="no rounds"):
        spread([])
