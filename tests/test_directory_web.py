"""The directory's pages: the admin loads the files with a preview; coordinators see their
territory; a person's page sends links and takes the person out with a handover."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import AdminLog, CuratorAssignment, Invitation, Organization, User
from tests.test_directory import directory_rows, write_xlsx
from tests.webclient import client_as


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="directory")


def _upload(client, url: str, path):  # type: ignore[no-untyped-def]
    data = {"sheet": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post(url, data=data, content_type="multipart/form-data")


def _count(db, *where) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        return session.execute(select(func.count()).where(*where)).scalar_one()


def test_the_admin_loads_the_directory_after_a_preview(app, demo, tmp_path) -> None:
    admin = client_as(app, "admin")
    rows = directory_rows()
    for row in rows:
        row[1] = "Смоленская область"  # the demo's region
    path = write_xlsx(tmp_path / "реестр.xlsx", rows)
    schools_before = _count(demo, Organization.kind == "school")
    preview = _upload(admin, "/directory/preview", path)
    assert preview.status_code == 200
    assert re.search(r'id="created-count">30<', preview.text)
    assert _count(demo, Organization.kind == "school") == schools_before  # a preview writes nothing
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    done = admin.post(
        "/directory/confirm", data={"token": token, "name": path.name}, follow_redirects=True
    )
    assert "школ добавлено 30" in done.text
    assert _count(demo, Organization.kind == "school") == schools_before + 30
    listed = admin.get("/directory?q=Средняя школа № 17").text
    assert "СШ № 17" in listed and 'id="school-count">1<' in listed


@pytest.mark.parametrize("who", ["coordinator", "regional", "curator1", "school1"])
def test_only_the_admin_loads_files(app, demo, tmp_path, who) -> None:
    path = write_xlsx(tmp_path / "реестр.xlsx", directory_rows(2))
    response = _upload(client_as(app, who), "/directory/preview", path)
    assert response.status_code == 403
    assert client_as(app, who).post("/people/confirm", data={"token": "x"}).status_code == 403


def test_pages_are_for_coordinators_and_admins_within_their_scope(app, demo) -> None:
    for who in ("school1", "curator1"):
        assert client_as(app, who).get("/directory").status_code == 403
        assert client_as(app, who).get("/people").status_code == 403
    coordinator = client_as(app, "coordinator")
    page = coordinator.get("/directory").text
    with unit_of_work(demo, readonly=True) as session:
        theirs = session.execute(
            select(func.count()).where(Organization.kind == "school")
        ).scalar_one()
    assert f'id="school-count">{theirs}<' in page
    school_id = int(re.search(r"/directory/schools/(\d+)", page).group(1))
    card = coordinator.get(f"/directory/schools/{school_id}").text
    assert 'id="school-people"' in card and 'id="school-curators"' in card
    people = coordinator.get("/people?role=curator").text
    assert "Иванова Ольга Петровна" in people


def test_a_person_page_sends_links_and_hands_over(app, demo) -> None:
    with unit_of_work(demo, readonly=True) as session:
        curator1 = session.execute(select(User).where(User.login == "curator1")).scalar_one()
        curator2 = session.execute(select(User).where(User.login == "curator2")).scalar_one()
        schools1 = set(
            session.execute(
                select(CuratorAssignment.school_id).where(
                    CuratorAssignment.curator_id == curator1.id
                )
            ).scalars()
        )
    coordinator = client_as(app, "coordinator")
    page = coordinator.get(f"/people/{curator1.id}").text
    assert "Сбросить пароль" in page
    sent = coordinator.post(f"/people/{curator1.id}/reset", follow_redirects=True)
    assert "Ссылка отправлена" in sent.text and _count(demo, Invitation.user_id == curator1.id) == 1
    assert client_as(app, "school1").post(f"/people/{curator1.id}/deactivate").status_code == 403

    admin = client_as(app, "admin")
    leaving = client_as(app, "curator1")
    refused = admin.post(f"/people/{curator1.id}/deactivate", follow_redirects=True)
    assert "Выберите, кому перейдёт каждая школа" in refused.text  # their schools need someone
    assert leaving.get("/queue").status_code == 200
    done = admin.post(
        f"/people/{curator1.id}/deactivate",
        data={"handover_to": curator2.id},
        follow_redirects=True,
    )
    assert "Учётная запись отключена" in done.text and 'data-active="no"' in done.text
    assert leaving.get("/queue").status_code in (302, 401)
    with unit_of_work(demo, readonly=True) as session:
        now2 = set(
            session.execute(
                select(CuratorAssignment.school_id).where(
                    CuratorAssignment.curator_id == curator2.id
                )
            ).scalars()
        )
        actions = (
            session.execute(
                select(AdminLog.action).where(
                    AdminLog.subject_id == curator1.id, AdminLog.subject == "user"
                )
            )
            .scalars()
            .all()
        )
    assert schools1 <= now2
    assert actions == ["created", "reset_sent", "handed_over", "deactivated"]
    assert "дела переданы" in admin.get(f"/people/{curator1.id}").text


def test_a_bad_upload_is_named_as_the_admin_named_it(app, demo, tmp_path) -> None:
    path = tmp_path / "плохой реестр.csv"
    path.write_text("Регион;ИНН\nСмоленская область;1\n", encoding="utf-8")
    admin = client_as(app, "admin")
    assert _upload(admin, "/directory/preview", path).status_code == 303
    assert "плохой реестр.csv: no header row with a name column" in admin.get("/directory").text


def test_the_admin_assigns_and_unassigns_a_curators_school(app, demo) -> None:
    with unit_of_work(demo, readonly=True) as session:
        curator2 = session.execute(select(User).where(User.login == "curator2")).scalar_one()
        school = session.execute(
            select(Organization).where(Organization.name == "МБОУ Ершичская СШ")
        ).scalar_one()
    admin = client_as(app, "admin")
    done = admin.post(
        f"/people/{curator2.id}/schools", data={"school": school.inn}, follow_redirects=True
    )
    assert "Школа закреплена за куратором" in done.text
    assert "Ершичская СШ" in client_as(app, "curator2").get("/queue").text  # now theirs too
    assert (
        client_as(app, "school1")
        .post(f"/people/{curator2.id}/schools", data={"school": "x"})
        .status_code
        == 403
    )
    nobody = admin.post(
        f"/people/{curator2.id}/schools", data={"school": "нет такой"}, follow_redirects=True
    )
    assert "no school matches" in nobody.text or "Запись не найдена" in nobody.text
    removed = admin.post(f"/people/{curator2.id}/schools/{school.id}/remove", follow_redirects=True)
    assert "Школа откреплена" in removed.text
    assert "откреплены школы" in removed.text and "назначены школы" in removed.text  # the log


def test_the_admin_moves_a_school_head_to_another_school(app, demo) -> None:
    with unit_of_work(demo, readonly=True) as session:
        head = session.execute(select(User).where(User.login == "school1")).scalar_one()
        other = session.execute(
            select(Organization).where(Organization.name == "МБОУ Руссковская СШ")
        ).scalar_one()
    admin = client_as(app, "admin")
    moved = admin.post(
        f"/people/{head.id}/scope", data={"organization": other.inn}, follow_redirects=True
    )
    assert "Организация изменена" in moved.text and "МБОУ Руссковская СШ" in moved.text
    unknown = admin.post(
        f"/people/{head.id}/scope", data={"organization": "нет такой"}, follow_redirects=True
    )
    assert "no school is named" in unknown.text
    assert (
        client_as(app, "school2")
        .post(f"/people/{head.id}/scope", data={"organization": "x"})
        .status_code
        == 403
    )
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(User, head.id).organization_id == other.id
