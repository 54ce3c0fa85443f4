"""The web UI through the Flask test client, on both databases: roles, tenants, forms."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.deadlines.calendar import WorkCalendar
from engine.demo import DEMO_PASSWORD
from engine.lifecycle.definition import SubjectKind
from engine.models import Occurrence, Organization, Roadmap, User
from tests.builders import SEED_FILES
from tests.factories import POLICIES, REGISTRY, count_occurrences
from tests.webclient import (
    PDF,
    client_as,
    first_planned,
    import_and_wait,
    login,
    report,
    state_of,
)
from web import create_app


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(
        TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test", LOGIN_RATE_LIMIT="5 per minute"
    )


# --- signing in --------------------------------------------------------------------------


def test_sign_in_lands_each_role_on_its_work(app) -> None:
    for who, landing in [
        ("school1", "/tasks"),
        ("curator1", "/queue"),
        ("coordinator", "/dashboard"),
    ]:
        client = app.test_client()
        assert login(client, who).headers["Location"] == "/"
        assert client.get("/").headers["Location"] == landing


def test_wrong_password_is_refused_in_russian(app) -> None:
    client = app.test_client()
    response = login(client, "school1", "wrong-password")
    assert response.status_code == 200 and "Неверный логин или пароль" in response.text
    assert client.get("/tasks").status_code == 302  # not signed in


def test_sign_in_is_rate_limited(app) -> None:
    client = app.test_client()
    codes = [login(client, "school1", "wrong").status_code for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    assert "Слишком много попыток" in login(client, "school1").text


def test_signing_out_kills_the_old_cookie(app) -> None:
    client = client_as(app, "school1")
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/tasks").status_code == 302  # sent to the sign-in page


def test_changing_the_password_ends_every_session(app) -> None:
    first, second = client_as(app, "school1"), client_as(app, "school1")
    response = first.post(
        "/account/password", data={"current": DEMO_PASSWORD, "new": "a-new-password"}
    )
    assert response.headers["Location"] == "/login"
    assert second.get("/tasks").status_code == 302
    assert login(app.test_client(), "school1").status_code == 200  # the old one no longer
    assert login(app.test_client(), "school1", "a-new-password").status_code == 302


def test_forms_need_the_csrf_token(db_url, demo, monkeypatch, request) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test"})
    request.addfinalizer(app.extensions["roadmap.engine"].dispose)
    client = app.test_client()
    assert login(client, "school1").status_code == 400  # no token: refused
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            "/login", data={"login": "school1", "password": DEMO_PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    occurrence = first_planned(demo, "school1")
    assert client.post(f"/occurrences/{occurrence}/start").status_code == 400
    assert state_of(demo, occurrence) == "planned"


def test_security_headers(app) -> None:
    response = app.test_client().get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    signed_in = app.test_client().post(
        "/login", data={"login": "school1", "password": DEMO_PASSWORD}
    )
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- the school ---------------------------------------------------------------------------


def test_school_reports_with_files_and_sees_the_return(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    assert "Мои задачи" in school.get("/tasks").text
    school.post(f"/occurrences/{occurrence}/start")
    page = report(
        school, occurrence, files=[("акт.pdf", PDF), ("фото.png", b"\x89PNG\r\n\x1a\n....")]
    )
    assert (
        "Отправлено на проверку. Решение — до" in page.text
        and "акт.pdf" in page.text
        and "фото.png" in page.text
    )
    assert state_of(demo, occurrence) == "reported"
    curator = client_as(app, "curator1")
    curator.post(f"/occurrences/{occurrence}/return", data={"comment": "Нужна подпись"})
    page = school.get(f"/occurrences/{occurrence}").text
    assert "Нужна подпись" in page and "На доработке" in page and "Взять в доработку" in page


def test_upload_checks_type_count_and_size(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    page = report(school, occurrence, files=[("virus.pdf", b"MZ\x90\x00evil")])
    assert "Принимаются только файлы PDF, DOCX, XLSX, JPG и PNG" in page.text
    page = report(school, occurrence, files=[(f"{n}.pdf", PDF) for n in range(6)])
    assert "Не больше 5 файлов за раз." in page.text
    assert state_of(demo, occurrence) == "in_progress"
    huge = [("big.pdf", b"%PDF-" + b"0" * (30 * 1024 * 1024))]
    with report(school, occurrence, files=huge) as big:  # closes the spooled request body
        assert big.status_code == 422 and "Файл слишком большой" in big.text
    page = report(school, occurrence, files=[("../../etc/passwd.pdf", PDF)])
    assert "passwd.pdf" in page.text and state_of(demo, occurrence) == "reported"


def test_reporting_needs_a_file_or_text(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    page = report(school, occurrence, files=[])
    assert "Приложите хотя бы один файл или напишите отчёт" in page.text
    assert report(school, occurrence, files=[], text="Проведено 2 собрания").status_code == 200
    assert state_of(demo, occurrence) == "reported"


# --- tenants --------------------------------------------------------------------------------


def test_a_school_cannot_see_or_touch_another_schools_work(app, demo) -> None:
    owner, other = client_as(app, "school1"), client_as(app, "school2")
    occurrence = first_planned(demo, "school1")
    owner.post(f"/occurrences/{occurrence}/start")
    report(owner, occurrence)
    page = owner.get(f"/occurrences/{occurrence}").text
    evidence = re.search(r"/evidence/(\d+)", page).group(1)
    with owner.get(f"/evidence/{evidence}") as download:
        assert download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")
    assert other.get(f"/occurrences/{occurrence}").status_code == 403
    assert other.get(f"/evidence/{evidence}").status_code == 404
    assert other.get("/evidence/999999").status_code == 404  # the same answer as a guess
    response = other.post(f"/occurrences/{occurrence}/rework", follow_redirects=True)
    assert "Нет прав на это действие" in response.text
    assert state_of(demo, occurrence) == "reported"
    assert f'/occurrences/{occurrence}"' not in other.get("/tasks").text


def test_curators_act_only_for_their_schools(app, demo) -> None:
    school4 = client_as(app, "school4")  # curator2's school
    occurrence = first_planned(demo, "school4")
    school4.post(f"/occurrences/{occurrence}/start")
    report(school4, occurrence)
    outsider = client_as(app, "curator1")
    assert outsider.get(f"/occurrences/{occurrence}").status_code == 403
    outsider.post("/queue/approve", data={"item": [f"occurrence:{occurrence}"]})
    assert state_of(demo, occurrence) == "reported"
    with unit_of_work(demo, readonly=True) as session:
        school4_id = session.get(Occurrence, occurrence).assignee_id
    assert outsider.get(f"/schools/{school4_id}").status_code == 404
    assert client_as(app, "curator2").get(f"/schools/{school4_id}").status_code == 200


def test_coordinator_pages_are_for_coordinators(app) -> None:
    for who in ("school1", "curator1"):
        client = client_as(app, who)
        for path in ("/dashboard", "/escalations", "/roadmaps", "/roadmaps/1/report.xlsx"):
            assert client.get(path).status_code == 403, (who, path)


# --- the curator ------------------------------------------------------------------------------


def test_bulk_approval_checks_every_item(app, demo) -> None:
    chosen = []
    for who in ("school1", "school2", "school4"):
        school = client_as(app, who)
        occurrence = first_planned(demo, who)
        school.post(f"/occurrences/{occurrence}/start")
        report(school, occurrence)
        chosen.append(occurrence)
    curator = client_as(app, "curator1")
    queue = curator.get("/queue").text
    assert f"occurrence:{chosen[0]}" in queue and f"occurrence:{chosen[2]}" not in queue
    items = [f"occurrence:{o}" for o in chosen]
    asked = curator.post("/queue/approve", data={"item": items})
    assert f"occurrence:{chosen[2]}" not in asked.text  # not theirs: not even listed
    page = curator.post(
        "/queue/approve", data={"item": items, "confirmed": "1"}, follow_redirects=True
    )
    assert "Одобрено: 2." in page.text and f"№{chosen[2]}: Нет прав" in page.text
    assert [state_of(demo, o) for o in chosen] == ["approved", "approved", "reported"]


# --- the coordinator -------------------------------------------------------------------------


def test_dashboard_and_execution_report(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    report(school, occurrence)
    client_as(app, "curator1").post(f"/occurrences/{occurrence}/approve")
    coordinator = client_as(app, "coordinator")
    page = coordinator.get("/dashboard").text
    assert re.search(r'id="approved-total">(\d+)', page).group(1) == "2"  # the demo's + ours
    assert "<svg" in page and "МБОУ Ершичская СШ" in page
    with unit_of_work(demo, readonly=True) as session:
        roadmap_id = session.execute(select(Roadmap.id)).scalar_one()
    response = coordinator.get(f"/roadmaps/{roadmap_id}/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=6)]
    ours = [r for r in rows if r[7] == "ОДОБРЕНО" and r[10] and "акт.pdf" in r[10]]
    assert len(ours) == 1 and ours[0][5] == "МБОУ Ершичская СШ" and ours[0][9]
    assert sheet["A5"].value == "Раздел" and len(rows) == count_occurrences(demo)


def test_import_through_the_upload_page(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    data = {"document": (io.BytesIO(SEED_FILES["003"].read_bytes()), "003.txt")}
    page = coordinator.post("/roadmaps/preview", data=data, content_type="multipart/form-data")
    assert "Мероприятий: <strong>34</strong>" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    with unit_of_work(demo, readonly=True) as session:
        assert len(session.execute(select(Roadmap.id)).all()) == 1  # the preview wrote nothing
    page = import_and_wait(coordinator, token, "003.txt")
    assert 'data-status="done"' in page and "Мероприятий в документе: <strong>34</strong>" in page
    assert "Дорожная карта создана" in page and "Открыть дорожную карту" in page
    assert "003.txt" in coordinator.get("/roadmaps").text  # among the recent imports
    bad = coordinator.post(
        "/roadmaps/preview",
        content_type="multipart/form-data",
        data={"document": (io.BytesIO(b"\x00\x01"), "x.docx")},
        follow_redirects=True,
    )
    assert "Не удалось прочитать документ" in bad.text


def test_inbox_shows_and_marks_notifications(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    report(school, occurrence)
    curator = client_as(app, "curator1")
    page = curator.get("/inbox").text
    assert "отправлен отчёт на проверку" in page and 'id="unread"' in page
    ids = re.findall(r'name="id" value="(\d+)"', page)
    curator.post("/inbox/read", data={"id": ids})
    assert 'id="unread"' not in curator.get("/inbox").text


# --- documents ---------------------------------------------------------------------------------


def test_a_school_document_goes_through_review(app, demo) -> None:
    school = client_as(app, "school1")
    page = school.post(
        "/documents",
        data={
            "kind": "self_diagnostic",
            "title": "Самодиагностика 2024",
            "send_for_review": "1",
            "files": [(io.BytesIO(PDF), "самодиагностика.pdf")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "На проверке" in page.text and "самодиагностика.pdf" in page.text
    document = int(page.request.path.rsplit("/", 1)[1])
    assert client_as(app, "school2").get(f"/documents/{document}").status_code == 403
    assert client_as(app, "curator2").get(f"/documents/{document}").status_code == 403
    curator = client_as(app, "curator1")
    assert f"/documents/{document}" in curator.get("/queue").text
    curator.post(f"/documents/{document}/return", data={"comment": "Нет подписи директора"})
    page = school.get(f"/documents/{document}").text
    assert "На доработке" in page and "Нет подписи директора" in page
    school.post(
        f"/documents/{document}/submit",
        data={"files": [(io.BytesIO(PDF), "самодиагностика-2.pdf")]},
        content_type="multipart/form-data",
    )
    page = curator.post(f"/documents/{document}/approve", follow_redirects=True).text
    assert 'id="state">ОДОБРЕНО' in page and "самодиагностика-2.pdf" in page
    assert (
        "Самодиагностика: Самодиагностика 2024"
        in client_as(app, "coordinator").get("/documents").text
    )


def test_only_schools_create_documents_and_files_are_required(app) -> None:
    page = client_as(app, "curator1").post(
        "/documents", data={"kind": "self_diagnostic"}, follow_redirects=True
    )
    assert "Документы создаёт школа." in page.text
    page = client_as(app, "school1").post(
        "/documents",
        data={"kind": "antirisk_programme", "send_for_review": "1"},
        follow_redirects=True,
    )
    assert "Приложите файл документа." in page.text and "Черновик" in page.text


# --- arranging the work ------------------------------------------------------------------------


def _roadmap_id(db) -> int:
    with unit_of_work(db, readonly=True) as session:
        return session.execute(select(Roadmap.id).order_by(Roadmap.id)).scalars().first()


def test_curators_are_assigned_and_removed(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    roadmap_id = _roadmap_id(demo)
    page = coordinator.get(f"/roadmaps/{roadmap_id}").text
    assert "Иванова Ольга Петровна" in page and 'id="participants"' in page
    occurrence = first_planned(demo, "school1")
    with unit_of_work(demo, readonly=True) as session:
        school1 = session.get(Occurrence, occurrence).assignee_id
        curator2 = session.execute(select(User.id).where(User.login == "curator2")).scalar_one()
    assert client_as(app, "curator2").get(f"/occurrences/{occurrence}").status_code == 403
    coordinator.post(f"/schools/{school1}/curators", data={"curator_id": curator2})
    assert client_as(app, "curator2").get(f"/occurrences/{occurrence}").status_code == 200
    coordinator.post(
        f"/schools/{school1}/curators", data={"curator_id": curator2, "action": "remove"}
    )
    assert client_as(app, "curator2").get(f"/occurrences/{occurrence}").status_code == 403
    school = client_as(app, "school1")
    school.post(f"/schools/{school1}/curators", data={"curator_id": curator2})
    assert client_as(app, "curator2").get(f"/occurrences/{occurrence}").status_code == 403


def test_a_new_school_joins_a_roadmap(app, demo) -> None:
    with unit_of_work(demo) as session:
        municipality = session.execute(
            select(Organization.id).where(Organization.kind == "municipality")
        ).scalar_one()
        newcomer = Organization(kind="school", name="МБОУ Новая СШ", parent_id=municipality)
        session.add(newcomer)
        session.flush()
        newcomer_id = newcomer.id
    coordinator = client_as(app, "coordinator")
    page = coordinator.post(
        f"/roadmaps/{_roadmap_id(demo)}/participants",
        data={"school_id": newcomer_id},
        follow_redirects=True,
    )
    # the school gets the work the roadmap gives schools («ОО»): 1.5 names the department as
    # responsible, so its four quarterly items stay with the municipality
    assert "Школа добавлена, задач создано: 27." in page.text
    again = coordinator.post(
        f"/roadmaps/{_roadmap_id(demo)}/participants",
        data={"school_id": newcomer_id},
        follow_redirects=True,
    )
    assert "Школа уже участвует в дорожной карте." in again.text


def test_on_demand_work_gets_a_date(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    data = {"document": (io.BytesIO(SEED_FILES["001"].read_bytes()), "001.txt")}
    preview = coordinator.post(
        "/roadmaps/preview", data=data, content_type="multipart/form-data"
    ).text
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    assert 'data-status="done"' in import_and_wait(coordinator, token)
    with unit_of_work(demo, readonly=True) as session:
        roadmap_id = (
            session.execute(select(Roadmap.id).order_by(Roadmap.id.desc())).scalars().first()
        )
    page = coordinator.get(f"/roadmaps/{roadmap_id}").text
    undated = re.findall(r"/occurrences/(\d+)/date", page)
    assert undated, "seed 001 has «по графику» and «по мере поступления» work"
    response = coordinator.post(
        f"/occurrences/{undated[0]}/date", data={"due_on": "2020-10-15"}, follow_redirects=True
    )
    assert "Срок назначен: 15.10.2020." in response.text
    with unit_of_work(demo, readonly=True) as session:
        dated = session.get(Occurrence, int(undated[0]))
        assert (dated.due_on, dated.scheduled) == (date(2020, 10, 15), False)
    history = coordinator.get(f"/occurrences/{undated[0]}").text
    assert "срок без срока → 15.10.2020" in history


def test_work_is_reassigned_with_a_reason(app, demo) -> None:
    occurrence = first_planned(demo, "school1")
    with unit_of_work(demo, readonly=True) as session:
        school2 = session.execute(
            select(Organization.id).where(Organization.name == "МБОУ Руссковская СШ")
        ).scalar_one()
        municipality = session.execute(
            select(Organization.id).where(Organization.kind == "municipality")
        ).scalar_one()
    coordinator = client_as(app, "coordinator")
    page = coordinator.post(
        f"/occurrences/{occurrence}/reassign",
        data={"assignee_id": school2, "reason": ""},
        follow_redirects=True,
    )
    assert "Укажите причину." in page.text
    # school2 has the same activity due that day already: refused, nothing moves
    page = coordinator.post(
        f"/occurrences/{occurrence}/reassign",
        data={"assignee_id": school2, "reason": "Реорганизация"},
        follow_redirects=True,
    )
    assert "На эту дату уже назначено такое же мероприятие." in page.text
    coordinator.post(
        f"/occurrences/{occurrence}/reassign",
        data={"assignee_id": municipality, "reason": "Проведёт отдел образования"},
    )
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(Occurrence, occurrence).assignee_id == municipality
    assert client_as(app, "school1").get(f"/occurrences/{occurrence}").status_code == 403
    page = coordinator.get(f"/occurrences/{occurrence}").text
    assert "Проведёт отдел образования" in page and "Начать работу" in page


def test_execution_report_as_docx(app, demo) -> None:
    import docx

    response = client_as(app, "coordinator").get(f"/roadmaps/{_roadmap_id(demo)}/report.docx")
    document = docx.Document(io.BytesIO(response.data))
    table = document.tables[1]  # after the totals
    assert [c.text for c in table.rows[0].cells][:3] == ["№", "Мероприятие", "Исполнитель"]
    states = {row.cells[4].text for row in table.rows[1:]}
    assert "ОДОБРЕНО" in states and len(table.rows) == 1 + count_occurrences(demo)
    assert any(p.text.startswith("Отчёт о выполнении") for p in document.paragraphs[:3])


def test_admins_see_the_lifecycles_drawn(app) -> None:
    from web.diagrams import PHASE_COLOURS

    page = client_as(app, "admin").get("/admin/workflows")
    assert page.status_code == 200 and page.text.count("<svg") == len(REGISTRY.definitions())
    assert "Мероприятие дорожной карты, версия 1" in page.text and "activity v1" not in page.text
    drawn = re.search(r'<svg class="diagram".*?</svg>', page.text, re.S).group(0)
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", drawn)
    definition = REGISTRY.current("activity").definition
    assert {s.label for s in definition.states} <= set(labels)
    assert {r.label.strip() for r in definition.rules} <= {label.strip() for label in labels}
    assert not {r.trigger for r in definition.rules} & {label.strip() for label in labels}
    fills = {  # each state's box is filled by what its phase means
        re.search(r"<text[^>]*>([^<]+)</text>", node).group(1): re.search(
            r'fill="([^"]+)"', node
        ).group(1)
        for node in re.findall(r'<g id="node\d+" class="node">(.*?)</g>', drawn, re.S)
    }
    for state in definition.states:
        assert fills[state.label] == PHASE_COLOURS[definition.phase_of(state.name)][0]

    def rgb(colour: str) -> tuple[int, ...]:
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    red, green, blue = rgb(fills["ОДОБРЕНО"])
    assert green > red and green > blue  # done is green
    assert len(set(rgb(fills["Отменено"]))) == 1  # cancelled is grey, not success
    assert client_as(app, "coordinator").get("/admin/workflows").status_code == 403


def test_the_section_filter_offers_only_the_users_roadmaps(app, demo) -> None:
    from engine.models import Section

    with unit_of_work(demo) as session:
        elsewhere = Roadmap(
            title="Чужая",
            level="municipal",
            owner_id=1,
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
        )
        session.add(elsewhere)
        session.flush()
        session.add(Section(roadmap_id=elsewhere.id, number="9", title="Раздел чужой карты"))
    page = client_as(app, "school1").get("/tasks").text
    assert "Организационно-управленческое направление" in page
    assert "Раздел чужой карты" not in page


def test_each_user_reads_times_in_their_own_zone(app, demo) -> None:
    school = client_as(app, "school1")
    occurrence = first_planned(demo, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    moscow = re.search(
        r'<td class="nowrap"[^>]*>(\d\d\.\d\d\.\d{4} \d\d:\d\d)</td>',
        school.get(f"/occurrences/{occurrence}").text,
    ).group(1)
    page = school.post("/account", data={"timezone": "Asia/Vladivostok"}, follow_redirects=True)
    assert "Настройки сохранены." in page.text
    vladivostok = re.search(
        r'<td class="nowrap"[^>]*>(\d\d\.\d\d\.\d{4} \d\d:\d\d)</td>',
        school.get(f"/occurrences/{occurrence}").text,
    ).group(1)
    shift = datetime.strptime(vladivostok, "%d.%m.%Y %H:%M") - datetime.strptime(
        moscow, "%d.%m.%Y %H:%M"
    )
    assert shift == timedelta(hours=7)
    page = school.post("/account", data={"timezone": "Mars/Olympus"}, follow_redirects=True)
    assert "Неизвестный часовой пояс." in page.text


def test_russian_by_default_english_on_request(app, demo) -> None:
    school = client_as(app, "school1")
    page = school.get("/tasks").text
    assert "Мои задачи" in page and 'lang="ru"' in page
    school.post("/account", data={"timezone": "", "language": "en"})
    page = school.get("/tasks").text
    assert "My tasks" in page and "Overdue" in page and "Мои задачи" not in page
    occurrence = first_planned(demo, "school1")
    page = school.get(f"/occurrences/{occurrence}").text
    assert "Start work" in page and "Planned" in page
    visitor = app.test_client()
    visitor.post("/account", data={"language": "en"})  # not signed in: sent to sign in
    assert "Войдите, чтобы продолжить." in visitor.get("/tasks", follow_redirects=True).text
    school.post("/account", data={"timezone": "", "language": "ru"})
    assert "Мои задачи" in school.get("/tasks").text


ATTEMPTS = """
import json, sys
from web import create_app
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "t",
                  "LOGIN_RATE_LIMIT": "4 per minute"})
client = app.test_client()
codes = [client.post("/login", data={"login": sys.argv[2], "password": "wrong"}).status_code
         for _ in range(int(sys.argv[1]))]
app.extensions["roadmap.engine"].dispose()
print(json.dumps(codes))
"""


def _attempts_in_a_process(count: int, env: dict[str, str], login: str) -> list[int]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ATTEMPTS, str(count), login],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.sqlite_only
def test_sign_in_limits_are_shared_across_processes(db_url, demo, redis_server) -> None:
    """Like two gunicorn workers: two processes count one budget, with Redis configured and
    without it (the failures are counted in the database they share)."""
    import os

    base = {**os.environ, "DATABASE_URL": db_url}
    with_redis = {**base, "REDIS_URL": redis_server.url}
    assert _attempts_in_a_process(3, with_redis, "school1") == [200, 200, 200]
    assert _attempts_in_a_process(2, with_redis, "school1") == [200, 429]
    without = {k: v for k, v in base.items() if k != "REDIS_URL"}
    assert _attempts_in_a_process(3, without, "school2") == [200, 200, 200]
    assert _attempts_in_a_process(2, without, "school2") == [200, 429]


def test_requests_over_the_size_limit_are_refused(db_url, demo, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    application = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "t", "MAX_CONTENT_LENGTH": 1024}
    )
    client = client_as(application, "school1")
    occurrence = first_planned(demo, "school1")
    response = report(client, occurrence, files=[("big.pdf", b"%PDF-" + b"0" * 4096)])
    assert response.status_code == 413 and "Файлы слишком большие." in response.text
    application.extensions["roadmap.engine"].dispose()


def test_sessions_expire_after_eight_hours(app, monkeypatch) -> None:
    import itsdangerous.timed

    school = client_as(app, "school1")
    assert school.get("/tasks").status_code == 200
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 8 * 3600 + 60)
    assert school.get("/tasks").status_code == 302  # the cookie is too old: sign in again


def test_another_school_cannot_act_on_a_document(app, demo) -> None:
    owner = client_as(app, "school1")
    page = owner.post(
        "/documents",
        data={
            "kind": "development_concept",
            "title": "Концепция",
            "files": [(io.BytesIO(PDF), "концепция.pdf")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    document = int(page.request.path.rsplit("/", 1)[1])
    evidence = re.search(r"/evidence/(\d+)", page.text).group(1)
    other = client_as(app, "school2")
    response = other.post(f"/documents/{document}/submit", follow_redirects=True)
    assert "Нет прав на это действие." in response.text
    assert other.get(f"/evidence/{evidence}").status_code == 404
    assert "Черновик" in owner.get(f"/documents/{document}").text


QUEUE_DATES = re.compile(
    r'<td class="nowrap"[^>]*>(\d\d\.\d\d\.\d{4})</td>\s*'
    r'<td class="nowrap"[^>]*>(\d\d\.\d\d\.\d{4})'
)


def test_the_queue_shows_the_review_deadline_of_the_municipality(app, demo) -> None:
    """A municipality that gives curators one working day sees that deadline, not the default."""
    curator = client_as(app, "curator1")

    def deadlines() -> list[tuple[date, date]]:
        page = curator.get("/queue").text
        return [
            (datetime.strptime(a, "%d.%m.%Y").date(), datetime.strptime(b, "%d.%m.%Y").date())
            for a, b in QUEUE_DATES.findall(page)
        ]

    with unit_of_work(demo) as session:
        calendar = WorkCalendar.load(session)
        municipality = session.execute(
            select(Organization.id).where(Organization.name == "Ершичский район")
        ).scalar_one()
    before = deadlines()
    assert before, "the demo has reports waiting for curator1"
    default = POLICIES.for_subject(SubjectKind.OCCURRENCE)
    assert all(d == calendar.add_working_days(s, default.review_days) for s, d in before)
    with unit_of_work(demo) as session:
        POLICIES.set_override(session, municipality, default.workflow, review_days=1)
    after = deadlines()
    assert [s for s, _ in after] == [s for s, _ in before]
    assert all(d == calendar.add_working_days(s, 1) for s, d in after)
