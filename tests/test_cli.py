"""The `roadmap` command line, on both databases, as people type it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from engine.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _first(out: str, state_label: str, number: str) -> int:
    for line in out.splitlines():
        if state_label in line and f" {number} " in line:
            return int(line.split()[0])
    raise AssertionError(f"no {state_label} {number} in:\n{out}")


def test_demo_prints_logins_that_work_with_transition(roadmap) -> None:
    code, out, _ = roadmap("demo", "--today", "2024-11-15")
    assert code == 0
    for login in ("school1", "school5", "curator1", "curator2", "coordinator"):
        assert re.search(rf"^\s+{login}\s", out, re.M)
    assert DEMO_PASSWORD in out
    code, out, _ = roadmap("occurrences", "list", "--school", "Ершичская", "--state", "planned")
    occ = _first(out, "Запланировано", "3.9")
    assert roadmap("transition", str(occ), "start", "--as", "school1")[0] == 0
    code, out, _ = roadmap(
        "transition",
        str(occ),
        "report",
        "--as",
        "school1",
        "--report",
        "Вопрос рассмотрен на педсовете, протокол №2",
    )
    assert (code, out.strip()) == (
        0,
        f"occurrence {occ}: in_progress → reported (report by school1)",
    )
    code, out, _ = roadmap(
        "transition", str(occ), "return", "--as", "curator1", "--comment", "Приложите протокол"
    )
    assert code == 0
    code, out, _ = roadmap("history", str(occ))
    lines = out.strip().splitlines()
    assert [line.split()[2:4] for line in lines] == [
        ["school1", "start"],
        ["school1", "report"],
        ["curator1", "return"],
    ]
    assert "«Приложите протокол»" in lines[-1]


def test_demo_twice_loads_once(roadmap) -> None:
    assert roadmap("demo")[0] == 0
    code, out, _ = roadmap("demo")
    assert code == 0 and "already loaded" in out and "curator1" in out
    code, out, _ = roadmap("occurrences", "list", "--limit", "500")
    assert len(out.strip().splitlines()) == 155


def test_list_filters_by_state_and_pages(roadmap) -> None:
    roadmap("demo", "--today", "2024-11-15")
    _, reported, _ = roadmap("occurrences", "list", "--state", "reported")
    assert len(reported.strip().splitlines()) == 1 and "На проверке" in reported
    _, page1, _ = roadmap("occurrences", "list", "--limit", "10")
    _, page2, _ = roadmap("occurrences", "list", "--limit", "10", "--page", "2")
    ids1 = {line.split()[0] for line in page1.splitlines()}
    ids2 = {line.split()[0] for line in page2.splitlines()}
    assert len(ids1) == len(ids2) == 10 and not ids1 & ids2
    _, seen_by_school, _ = roadmap("occurrences", "list", "--as", "school2", "--limit", "500")
    assert len(seen_by_school.strip().splitlines()) == 31
    assert all("Руссковская" in line for line in seen_by_school.splitlines())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("transition", "999999", "start", "--as", "school1"), 4, "occurrence 999999 does not"),
        (("transition", "{occ}", "approve", "--as", "curator1"), 1, "not allowed in state"),
        (("transition", "{occ}", "start", "--as", "school2"), 3, "outside their schools"),
        (("transition", "{occ}", "start", "--as", "nobody"), 4, "user 'nobody'"),
        (("transition", "{occ}", "cancel", "--as", "coordinator"), 1, "requires a comment"),
        (("occurrences", "list", "--school", "СШ"), 1, "matches 3 schools"),
        (("transition", "abc", "start", "--as", "school1"), 2, "not a valid integer"),
    ],
)
def test_errors_are_one_clear_line(roadmap, args, code, message) -> None:
    roadmap("demo", "--today", "2024-11-15")
    _, out, _ = roadmap("occurrences", "list", "--as", "school1", "--state", "planned")
    occ = out.split()[0]
    got, out, err = roadmap(*(a.replace("{occ}", occ) for a in args))
    assert got == code
    assert message in err
    assert "Traceback" not in err and out == ""


def test_commands_refuse_an_unmigrated_database(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["occurrences", "list"]) == 1
    assert "roadmap db upgrade" in capsys.readouterr().err
    from engine.db import make_engine
    from engine.migrate import upgrade

    old = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(old, "0001")
    old.dispose()
    capsys.readouterr()
    assert main(["occurrences", "list"]) == 1
    assert "at revision 0001" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert main(["occurrences", "list"]) == 0


def test_evidence_file_through_the_cli(roadmap, tmp_path) -> None:
    roadmap("demo", "--today", "2024-11-15")
    _, out, _ = roadmap("occurrences", "list", "--as", "school3", "--state", "planned")
    occ = out.split()[0]
    roadmap("transition", occ, "start", "--as", "school3")
    fake = tmp_path / "протокол.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    code, _, err = roadmap("transition", occ, "report", "--as", "school3", "--evidence", str(fake))
    assert code == 1 and "only PDF, DOCX, XLSX, JPG and PNG" in err
    pdf = "%PDF-1.7\n протокол".encode()
    fake.write_bytes(pdf)
    code, _, _ = roadmap("transition", occ, "report", "--as", "school3", "--evidence", str(fake))
    assert code == 0
    stored = list((tmp_path / "evidence").rglob("*"))
    files = [p for p in stored if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == pdf


def test_console_script_exits_non_zero_without_traceback(tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://127.0.0.1:1/nowhere"}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "occurrences", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: database:")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_api_tokens_are_printed_once_and_stored_hashed(roadmap, db_url) -> None:
    from sqlalchemy import select

    from engine.accounts.users import user_for_token
    from engine.db import make_engine, unit_of_work
    from engine.models import ApiToken

    roadmap("demo")
    code, out, _ = roadmap("token", "create", "--as", "curator1", "--name", "отчёты")
    token = out.strip()
    assert code == 0 and len(token) > 30
    engine = make_engine(db_url)
    with unit_of_work(engine, readonly=True) as session:
        stored = session.execute(select(ApiToken)).scalar_one()
        assert token not in (stored.token_hash, stored.name)
        assert user_for_token(session, token).user.login == "curator1"
        assert user_for_token(session, token + "x") is None
    engine.dispose()
    assert roadmap("token", "create", "--as", "nobody")[0] == 4
