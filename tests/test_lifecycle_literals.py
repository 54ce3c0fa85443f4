"""Lifecycles are data: outside `workflows/`, no code names a state, a trigger or a workflow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import workflows

ROOT = Path(__file__).resolve().parents[1]
#: bench/ is left out on purpose: its raw-SQL floor and BPMN model restate the activity
#: lifecycle by hand, to measure the engine against them.
PACKAGES = ("engine", "web", "worker", "cli")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)

#: Words that are also state or trigger names, where they mean something else. Each says why.
ALLOWED = {
    ("engine/deadlines/parser.py", "start"): "a schedule's start date in its JSON",
    ("engine/importing/structure.py", "start"): "a period's start date in the dry-run JSON",
    ("engine/importing/canonical.py", "start"): "a period's start date in the canonical file",
    ("engine/models.py", "draft"): "the roadmap's own status column, not a lifecycle",
    ("engine/models.py", "report"): "the kind of a written report among comments",
    ("engine/importing/structure.py", "activity"): "the dry-run JSON's activity field",
    ("engine/importing/indicators.py", "activity"): "an indicator's activity in the dry run",
    ("engine/importing/canonical.py", "activity"): "an indicator's activity in the file",
    ("cli/main.py", "start"): "the START argument of `roadmap calendar show`",
}


def lifecycle_names() -> set[str]:
    """Every state, trigger and workflow name of every definition."""
    names: set[str] = set()
    for definition in workflows.DEFINITIONS:
        names.add(definition.name)
        names.update(state.name for state in definition.states)
        names.update(rule.trigger for rule in definition.rules)
    return names


def literals(path: Path) -> list[tuple[int, str]]:
    """String constants in a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_state_or_trigger_literal_outside_workflows() -> None:
    names = lifecycle_names()
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue  # migrations record the schema as it was
            for line, value in literals(path):
                if value in names and (relative, value) not in ALLOWED:
                    found.append(f"{relative}:{line}: {value!r}")
    assert found == [], "lifecycle names outside workflows/:\n" + "\n".join(found)


def test_templates_name_no_state_or_trigger() -> None:
    names = lifecycle_names()
    found = []
    for path in sorted((ROOT / "web" / "templates").glob("*.html")):
        # only Jinja's own expressions: `type="submit"` is HTML, not the trigger
        text = " ".join(JINJA.findall(path.read_text(encoding="utf-8")))
        for name in names:
            for quoted in (f"'{name}'", f'"{name}"'):
                if quoted in text:
                    found.append(f"{path.name}: {quoted}")
    assert found == [], "lifecycle names in templates:\n" + "\n".join(found)


def test_the_walk_finds_a_literal(tmp_path: Path) -> None:
    """The walk itself sees a state compared as a string, and skips docstrings."""
    module = tmp_path / "m.py"
    module.write_text('"""reported"""\nx = state == "reported"\n', encoding="utf-8")
    assert literals(module) == [(2, "reported")]
