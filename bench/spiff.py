"""SpiffWorkflow running the activity lifecycle from bench/activity_lifecycle.bpmn.

As its users keep it: one row per process instance holding the serialized workflow, read,
restored, advanced one user task and written back (version-guarded) in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

BPMN = Path(__file__).with_name("activity_lifecycle.bpmn")
PROCESS = "activity_lifecycle"
#: The user tasks of one instance's life, with the data each completion carries.
STEPS = (("start_work", {}), ("report", {"report": "готово"}), ("review", {"verdict": "approve"}))
TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_spiff_instance (id {key}, state TEXT NOT NULL, "
    "version INTEGER NOT NULL DEFAULT 1)"
)


class SpiffLifecycle:
    """The parsed process and a serializer, shared by every instance."""

    def __init__(self) -> None:
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(PROCESS)
        self.serializer = BpmnWorkflowSerializer()

    def new_instance(self) -> str:
        """A started instance, serialized: it waits at its first user task."""
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def advance(self, state: str, task_name: str, data: dict[str, Any]) -> str:
        """Restore, fire due timers, complete user task `task_name`, serialize again."""
        workflow = self.serializer.deserialize_json(state)
        workflow.refresh_timers()
        ready = [
            t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == task_name
        ]
        if len(ready) != 1:
            raise RuntimeError(f"{task_name} is not the one ready task")
        ready[0].data.update(data)
        ready[0].run()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def completed(self, state: str) -> bool:
        """Whether a serialized instance has run to its end."""
        return self.serializer.deserialize_json(state).is_completed()


def create_instances(conn: Any, placeholder: str, count: int, state: str) -> list[int]:
    """`count` new instance rows holding `state`; their ids."""
    key = "SERIAL PRIMARY KEY" if placeholder == "%s" else "INTEGER PRIMARY KEY"
    conn.execute(TABLE.format(key=key))
    first = conn.execute("SELECT coalesce(max(id), 0) FROM bench_spiff_instance").fetchone()[0]
    rows = [(first + n + 1, state) for n in range(count)]
    conn.cursor().executemany(
        f"INSERT INTO bench_spiff_instance (id, state) VALUES ({placeholder}, {placeholder})", rows
    )
    conn.commit()
    return [row[0] for row in rows]


def step(
    conn: Any, placeholder: str, begin: str | None, lifecycle: SpiffLifecycle, instance: int, n: int
) -> None:
    """Advance one instance by user task `n` of STEPS, in one transaction (opened by `begin`
    where the driver does not open one itself)."""
    p = placeholder
    cur = conn.cursor()
    if begin:
        cur.execute(begin)
    state, version = cur.execute(
        f"SELECT state, version FROM bench_spiff_instance WHERE id = {p}", (instance,)
    ).fetchone()
    task_name, data = STEPS[n]
    after = lifecycle.advance(state, task_name, data)
    cur.execute(
        f"UPDATE bench_spiff_instance SET state = {p}, version = version + 1 "
        f"WHERE id = {p} AND version = {p}",
        (after, instance, version),
    )
    if cur.rowcount != 1:
        raise RuntimeError(f"instance {instance} changed under the step")
    conn.commit()


def count_completed(conn: Any, placeholder: str, ids: list[int]) -> int:
    """How many of the instances `ids` have completed."""
    lifecycle = SpiffLifecycle()
    done = 0
    for instance in ids:
        (state,) = conn.execute(
            f"SELECT state FROM bench_spiff_instance WHERE id = {placeholder}", (instance,)
        ).fetchone()
        done += lifecycle.completed(state)
    return done
