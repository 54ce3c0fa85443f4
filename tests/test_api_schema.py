"""Schemathesis against the served OpenAPI document, as a school, a curator and a coordinator:
no 500, every answer inside the schema, no undocumented status (`--checks all`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from engine.accounts.users import issue_api_token
from engine.db import unit_of_work
from engine.models import User

CONFIG = Path(__file__).with_name("schemathesis.toml")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:  # thousands of requests: no line each
        pass


@pytest.fixture
def served(demo, make_web_app) -> Iterator[str]:
    """The app on a loopback port, for a client that speaks HTTP."""
    server = make_server(
        "127.0.0.1", 0, make_web_app(SECRET_KEY="api-schema"), threaded=True, request_handler=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("login", ["school1", "curator1", "coordinator", "admin"])
def test_the_api_keeps_its_document(demo, served: str, login: str, tmp_path: Path) -> None:
    with unit_of_work(demo) as session:
        user_id = session.execute(select(User.id).where(User.login == login)).scalar_one()
        token = issue_api_token(session, user_id, "schemathesis")
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
            f"{served}/api/v1/openapi.json",
            "--checks", "all",
            "--header", f"Authorization: Bearer {token}",
            "--workers", "1",
            # one seed: the suite tries the same cases on every run; set another to explore
            "--seed", os.environ.get("SCHEMATHESIS_SEED", "20261201"),
        ],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    (tmp_path / "schemathesis.out").write_text(run.stdout)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "20 selected / 20 total" in run.stdout, run.stdout[-3000:]
