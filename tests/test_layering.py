"""The import graph points one way: engine ← workflows ← web, worker ← cli."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """import-linter checks the contracts in pyproject.toml: layers and forbidden imports."""
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True) == 0


def test_engine_and_workflows_load_without_flask_or_celery() -> None:
    code = (
        "import sys, pkgutil, importlib, engine, workflows\n"
        "for pkg in (engine, workflows):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('flask', 'celery')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
