"""People: import with invitations by mail, one-time links, password reset, and a curator's
departure with a handover. Mail goes through the outbox to a real SMTP server on loopback."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

import workflows
from engine.accounts.users import issue_api_token
from engine.app import App
from engine.db import unit_of_work
from engine.models import AdminLog, CuratorAssignment, Invitation, Notification, User
from engine.notices.mail import SmtpSender
from engine.notices.outbox import deliver_pending
from engine.settings import Settings
from tests.smtp import SmtpServer
from tests.test_directory import MUNICIPALITIES, directory_rows, inn, write_csv, write_xlsx
from tests.webclient import client_as

PEOPLE_HEADER = ["ФИО", "Роль", "E-mail", "Организация / муниципалитет", "Школы"]


def people_rows() -> list[list[str]]:
    rows = [
        ["Иванова Анна Петровна", "муниципальный координатор", "ivanova@example.org",
         MUNICIPALITIES[0], ""],
        ["Петров Олег Ильич", "Муниципальный координатор", "petrov@example.org",
         MUNICIPALITIES[1], ""],
    ]  # fmt: skip
    for c in range(5):  # curator c has schools 6c+1 … 6c+6
        schools = "; ".join(inn(n) for n in range(6 * c + 1, 6 * c + 7))
        rows.append(
            [f"Куратор Номер {c + 1}", "куратор", f"curator{c + 1}@example.org", "", schools]
        )
    for n in range(1, 31):
        rows.append([f"Директор Школы {n}", "школа", f"head{n}@example.org", inn(n), ""])
    return rows


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def region(roadmap, tmp_path):  # type: ignore[no-untyped-def]
    code, _, err = roadmap("directory", "import", write_xlsx(tmp_path / "d.xlsx", directory_rows()))
    assert code == 0, err
    return tmp_path


def _deliver(db, smtp) -> int:  # type: ignore[no-untyped-def]
    settings = replace(Settings.from_env({}), smtp_host="127.0.0.1", smtp_port=smtp.port)
    app = App.build(settings, workflows.CATALOG, db=db)
    return deliver_pending(db, app.registry, SmtpSender(settings), base_url="http://x.invalid")


def _link(message) -> str:  # type: ignore[no-untyped-def]
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+/password/set/\S+", body).group(0)


def _count(db, model, *where) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_people_are_invited_and_a_curator_sets_a_password_once(
    roadmap, db, region, smtp, make_web_app, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLIC_URL", "http://roadmap.example")
    path = write_xlsx(region / "people.xlsx", people_rows(), PEOPLE_HEADER)
    code, out, err = roadmap("users", "import", str(path), "--dry-run", "--json")
    assert code == 0, err
    assert len(json.loads(out)["created"]) == 37 and _count(db, User) == 0
    code, out, err = roadmap("users", "import", str(path))
    assert code == 0, err
    assert _count(db, User) == 37 and _count(db, Invitation) == 37
    assert _deliver(db, smtp) == 37
    to_curator = [m for m in smtp.inbox.messages if m["To"].addresses[0].username == "curator2"]
    assert len(to_curator) == 1 and "Приглашение" in to_curator[0]["Subject"]
    link = _link(to_curator[0])
    assert link.startswith("http://roadmap.example/password/set/")
    path_only = link.removeprefix("http://roadmap.example")

    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="people")
    browser = app.test_client()
    assert "Задайте пароль" in browser.get(path_only).text
    done = browser.post(path_only, data={"new": "Kurator-2-parol", "again": "Kurator-2-parol"})
    assert done.status_code == 303
    again = browser.post(path_only, data={"new": "Другой-пароль-9", "again": "Другой-пароль-9"})
    assert again.status_code == 410 and 'data-status="used"' in again.text
    signed = browser.post(
        "/login", data={"login": "curator2@example.org", "password": "Kurator-2-parol"}
    )
    assert signed.status_code in (302, 303)
    with unit_of_work(db, readonly=True) as session:
        curator = session.execute(
            select(User).where(User.login == "curator2@example.org")
        ).scalar_one()
        mine = set(
            session.execute(
                select(CuratorAssignment.school_id).where(
                    CuratorAssignment.curator_id == curator.id
                )
            ).scalars()
        )
    assert len(mine) == 6
    assert _count(db, AdminLog, AdminLog.subject == "user", AdminLog.action == "invited") == 37


def test_reimporting_people_after_one_change_changes_one(roadmap, db, region) -> None:
    path = write_csv(region / "people.csv", people_rows(), PEOPLE_HEADER)
    assert roadmap("users", "import", str(path))[0] == 0
    logs = _count(db, AdminLog)
    rows = people_rows()
    rows[2][4] = "; ".join(inn(n) for n in range(1, 6))  # curator 1 gives up school 6
    write_csv(path, rows, PEOPLE_HEADER)
    code, out, _ = roadmap("users", "import", str(path), "--json")
    result = json.loads(out)
    assert code == 0 and result["unchanged"] == 36
    assert [c["fields"] for c in result["changed"]] == [["schools"]]
    assert _count(db, AdminLog) == logs + 1 and _count(db, Invitation) == 37


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        (1, "директор школы-интерната", None),  # a school role word: fine
        (1, "завхоз", "is none of школа, куратор"),
        (2, "not-an-email", "'not-an-email' is not an e-mail address"),
        (3, "6700000001", "'6700000001' is not a valid ИНН"),
        (3, "Школа, которой нет", "no school is named 'Школа, которой нет'"),
        (2, "head1@example.org", "head1@example.org is also in row 9"),
    ],
)
def test_bad_people_rows_are_refused_whole(roadmap, db, region, cell, value, expected) -> None:
    rows = people_rows()
    rows[8][cell] = value  # the second school head, row 10 of the file
    path = write_csv(region / "bad.csv", rows, PEOPLE_HEADER)
    code, _, err = roadmap("users", "import", str(path))
    if expected is None:
        assert code == 0, err
        return
    assert code != 0 and "bad.csv, row 10" in err and expected in err, err
    assert _count(db, User) == 0 and _count(db, Notification) == 0


def test_a_departing_curator_hands_over_and_is_out_at_once(demo, roadmap, make_web_app) -> None:
    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="people")
    leaving = client_as(app, "curator1")
    items = set(re.findall(r'name="item" value="([^"]+)"', leaving.get("/queue").text))
    assert items, "the demo's curator1 has reports waiting"
    with unit_of_work(demo) as session:
        curator = session.execute(select(User).where(User.login == "curator1")).scalar_one()
        token = issue_api_token(session, curator.id, "script")
    items_before = set(
        re.findall(r'name="item" value="([^"]+)"', client_as(app, "curator2").get("/queue").text)
    )

    code, _, err = roadmap("users", "deactivate", "curator1")
    assert code != 0 and "--handover-to" in err  # their schools would be left without one
    code, out, err = roadmap("users", "deactivate", "curator1", "--handover-to", "curator2")
    assert code == 0, err

    assert leaving.get("/queue").status_code in (302, 401)  # the cookie is dead
    api = app.test_client().get("/api/v1/occurrences", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    after = set(
        re.findall(r'name="item" value="([^"]+)"', client_as(app, "curator2").get("/queue").text)
    )
    assert after == items_before | items  # the open queue items followed the schools
    with unit_of_work(demo, readonly=True) as session:
        actions = (
            session.execute(
                select(AdminLog.action).where(
                    AdminLog.subject_id == curator.id, AdminLog.subject == "user"
                )
            )
            .scalars()
            .all()
        )
        assert (
            session.execute(
                select(func.count()).where(CuratorAssignment.curator_id == curator.id)
            ).scalar_one()
            == 0
        )
    assert actions == ["created", "handed_over", "deactivated"]  # the demo came by import


def test_a_reset_answers_alike_for_known_and_unknown_addresses(demo, make_web_app, db) -> None:
    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="people")
    with unit_of_work(demo, readonly=True) as session:
        email = session.execute(select(User.email).where(User.login == "school1")).scalar_one()
    assert email
    known = app.test_client().post("/password/forgot", data={"email": email}, follow_redirects=True)
    unknown = app.test_client().post(
        "/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda page: re.sub(r'name="csrf_token"[^>]*', "", page)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    assert _count(db, Invitation) == 1  # only the known address got a link


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("12345678", False), ("curator2example", False), ("Kurator-vtoroy-2026", True)],
)
def test_a_new_password_must_be_hard_to_guess(
    roadmap, db, region, make_web_app, password, accepted
) -> None:
    path = write_csv(region / "people.csv", people_rows()[:8], PEOPLE_HEADER)
    assert roadmap("users", "import", str(path))[0] == 0
    with unit_of_work(db) as session:
        from engine.accounts.invitations import INVITATION, send_link

        user = session.execute(
            select(User).where(User.login == "curator2@example.org")
        ).scalar_one()
        token = send_link(session, user, INVITATION, "http://x")
    client = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="p").test_client()
    page = client.post(f"/password/set/{token}", data={"new": password, "again": password})
    if accepted:
        assert page.status_code == 303
    else:
        assert page.status_code == 200 and "Пароль слишком простой" in page.text
        assert client.get(f"/password/set/{token}").status_code == 200  # the link still works


def test_one_changes_ones_own_name_and_email(demo, make_web_app) -> None:
    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="people")
    school = client_as(app, "school1")
    taken = school.post(
        "/account/profile",
        data={"full_name": "Петрова Анна", "email": "curator1@demo.roadmap.local"},
        follow_redirects=True,
    )
    assert "уже у другой учётной записи" in taken.text
    done = school.post(
        "/account/profile",
        data={"full_name": "  Петрова   Анна ", "email": "Petrova@Example.org"},
        follow_redirects=True,
    )
    assert "Настройки сохранены" in done.text and 'value="petrova@example.org"' in done.text
    with unit_of_work(demo, readonly=True) as session:
        user = session.execute(select(User).where(User.login == "school1")).scalar_one()
        log = session.execute(
            select(AdminLog).where(AdminLog.subject_id == user.id, AdminLog.action == "changed")
        ).scalar_one()
    assert user.full_name == "Петрова Анна" and log.after == {
        "full_name": "Петрова Анна",
        "email": "petrova@example.org",
    }
