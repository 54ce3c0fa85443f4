"""Who runs whom: a municipal coordinator who also curates schools of their municipality,
a handover school by school, and coordinators who change the accounts of their territory
below their own role (never above it, never outside it)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.accounts.access import Actor
from engine.db import unit_of_work
from engine.directory.people import hand_over
from engine.errors import NotFoundError
from engine.importing.sources import DocumentError
from engine.models import (
    AdminLog,
    CuratorAssignment,
    Document,
    Occurrence,
    Organization,
    OrganizationKind,
    Role,
    User,
)
from engine.work.assignments import assign_curator, unassign_curator
from tests.test_directory import inn
from tests.test_people import PEOPLE_HEADER, people_rows, write_xlsx
from tests.test_people import region as region  # the fixture
from tests.webclient import client_as

ADMIN = Actor(id=0, login="admin", role=Role.ADMIN, organization_id=None)


@pytest.fixture
def app(demo, make_web_app):  # type: ignore[no-untyped-def]
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="powers")


@pytest.fixture
def elsewhere(demo):  # type: ignore[no-untyped-def]
    """A second municipality of the demo's region, with a school and a coordinator."""
    with unit_of_work(demo) as session:
        region = session.execute(
            select(Organization.id).where(Organization.kind == OrganizationKind.REGION)
        ).scalar_one()
        municipality = Organization(
            kind=OrganizationKind.MUNICIPALITY, name="Рославльский район", parent_id=region
        )
        session.add(municipality)
        session.flush()
        school = Organization(
            kind=OrganizationKind.SCHOOL,
            name="МБОУ Рославльская СШ",
            parent_id=municipality.id,
            inn=inn(777),
        )
        coordinator = User(
            login="roslavl",
            full_name="Координатор Рославля",
            role=Role.MUNICIPAL_COORDINATOR,
            organization_id=municipality.id,
            email="roslavl@example.org",
            password_hash="!",
            session_token="x" * 32,
        )
        session.add_all([school, coordinator])
        session.flush()
        return {"school": school.id, "coordinator": coordinator.id, "municipality": municipality.id}


def _id(db, login: str) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        return session.execute(select(User.id).where(User.login == login)).scalar_one()


def _items(client) -> set[str]:  # type: ignore[no-untyped-def]
    return set(re.findall(r'name="item" value="([^"]+)"', client.get("/queue").text))


def _school_of(db, item: str) -> int:  # type: ignore[no-untyped-def]
    kind, raw = item.split(":")
    with unit_of_work(db, readonly=True) as session:
        if kind == "occurrence":
            return session.get(Occurrence, int(raw)).assignee_id
        return session.get(Document, int(raw)).school_id


def test_a_municipal_coordinator_reviews_only_the_schools_they_curate(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    waiting = _items(client_as(app, "curator1"))
    assert waiting and not _items(coordinator)  # the municipality's reports are not theirs
    school = _school_of(demo, sorted(waiting)[0])
    with unit_of_work(demo) as session:
        assign_curator(session, ADMIN, _id(demo, "coordinator"), school)
    theirs = _items(coordinator)
    assert theirs == {i for i in waiting if _school_of(demo, i) == school}
    item = sorted(theirs)[0]
    with unit_of_work(demo) as session:  # no longer theirs: no verdict
        unassign_curator(session, ADMIN, _id(demo, "coordinator"), school)
    refused = coordinator.post(
        "/queue/approve", data={"item": item, "confirmed": "1"}, follow_redirects=True
    )
    assert "Одобрено" not in refused.text and item in _items(client_as(app, "curator1"))
    with unit_of_work(demo) as session:
        assign_curator(session, ADMIN, _id(demo, "coordinator"), school)
    done = coordinator.post(
        "/queue/approve", data={"item": item, "confirmed": "1"}, follow_redirects=True
    )
    assert "Одобрено: 1" in done.text and item not in _items(coordinator)


def test_only_the_schools_own_municipal_coordinator_may_curate_it(demo, elsewhere) -> None:
    with unit_of_work(demo) as session:
        school1 = session.execute(
            select(User.organization_id).where(User.login == "school1")
        ).scalar_one()
        with pytest.raises(NotFoundError):
            assign_curator(session, ADMIN, elsewhere["coordinator"], school1)
        with pytest.raises(NotFoundError):  # a school account curates nobody
            assign_curator(session, ADMIN, _id(demo, "school2"), school1)
        curator1 = session.execute(select(User).where(User.login == "curator1")).scalar_one()
        schools = session.execute(
            select(CuratorAssignment.school_id).where(CuratorAssignment.curator_id == curator1.id)
        ).scalars()
        roslavl = session.get(User, elsewhere["coordinator"])
        with pytest.raises(DocumentError, match="roslavl may not curate"):
            hand_over(session, "admin", curator1, dict.fromkeys(schools, roslavl))


def test_a_departing_curators_schools_go_each_to_its_own_successor(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    leaving_id, curator2_id = _id(demo, "curator1"), _id(demo, "curator2")
    coordinator_id = _id(demo, "coordinator")
    waiting = _items(client_as(app, "curator1"))
    before2 = _items(client_as(app, "curator2"))
    page = coordinator.get(f"/people/{leaving_id}").text
    selects = re.findall(r'name="handover_(\d+)"', page)
    assert len(selects) == 3 and "(муниципальный координатор)" in page
    kept = _school_of(demo, sorted(waiting)[0])  # the school with reports waiting
    missing = {f"handover_{s}": curator2_id for s in selects[:-1]}
    # «Все школы сразу» for the rest, and one school to the coordinator
    form = {"handover_to": curator2_id, f"handover_{kept}": coordinator_id}
    form |= {f"handover_{s}": "" for s in selects if s != str(kept)}
    refused = coordinator.post(f"/people/{leaving_id}/deactivate", data=missing)
    assert refused.status_code == 303
    assert "Выберите, кому перейдёт каждая школа" in coordinator.get(f"/people/{leaving_id}").text
    assert _items(client_as(app, "curator1")) == waiting  # nothing moved, still in

    done = coordinator.post(f"/people/{leaving_id}/deactivate", data=form, follow_redirects=True)
    assert "Учётная запись отключена" in done.text
    assert _items(coordinator) == {i for i in waiting if _school_of(demo, i) == kept}
    assert _items(client_as(app, "curator2")) == before2 | {
        i for i in waiting if _school_of(demo, i) != kept
    }
    with unit_of_work(demo, readonly=True) as session:
        handed = session.execute(
            select(AdminLog.after).where(
                AdminLog.subject_id == leaving_id, AdminLog.action == "handed_over"
            )
        ).scalars()
        assert sorted(a["to"] for a in handed) == ["coordinator", "curator2"]
        assert not session.get(User, leaving_id).is_active


def test_coordinators_change_accounts_below_them_in_their_territory(app, demo, elsewhere) -> None:
    coordinator = client_as(app, "coordinator")
    head, other = _id(demo, "school1"), elsewhere["coordinator"]
    with unit_of_work(demo, readonly=True) as session:
        home = session.get(User, head).organization_id
        school2 = session.execute(
            select(Organization.inn).where(Organization.name == "МБОУ Руссковская СШ")
        ).scalar_one()
    far = inn(777)
    assert coordinator.post(f"/people/{head}/scope", data={"organization": far}).status_code == 403
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(User, head).organization_id == home  # the refused move left nothing
    moved = coordinator.post(
        f"/people/{head}/scope", data={"organization": school2}, follow_redirects=True
    )
    assert "Организация изменена" in moved.text

    for target in ("coordinator", "regional", "admin"):  # themselves and above them
        answer = coordinator.post(f"/people/{_id(demo, target)}/deactivate")
        assert answer.status_code in (403, 404), target
    assert coordinator.post(f"/people/{other}/deactivate").status_code == 404  # not theirs
    with unit_of_work(demo) as session:  # a curator who also works elsewhere
        assign_curator(session, ADMIN, _id(demo, "curator2"), elsewhere["school"])
    assert coordinator.post(f"/people/{_id(demo, 'curator2')}/deactivate").status_code == 403
    assert client_as(app, "school2").post(f"/people/{head}/deactivate").status_code == 403
    with unit_of_work(demo, readonly=True) as session:
        active = session.execute(
            select(func.count()).where(User.is_active.is_(True), User.login != "school1")
        ).scalar_one()
    assert active == 10  # nobody above, outside or astride the territory was touched

    regional = client_as(app, "regional")
    done = regional.post(f"/people/{other}/deactivate", follow_redirects=True)
    assert "Учётная запись отключена" in done.text
    assert coordinator.post(f"/people/{head}/deactivate").status_code == 303


def test_people_file_lets_a_municipal_coordinator_curate_their_own_schools(
    roadmap, db, region, tmp_path
) -> None:
    rows = people_rows()
    rows[0][4] = f"{inn(1)}; {inn(4)}"  # Иванова coordinates MUNICIPALITIES[0]: 1, 4, 7, …
    path = write_xlsx(tmp_path / "p.xlsx", rows, PEOPLE_HEADER)
    code, _, err = roadmap("users", "import", str(path))
    assert code == 0, err
    with unit_of_work(db, readonly=True) as session:
        ivanova = session.execute(
            select(User.id).where(User.email == "ivanova@example.org")
        ).scalar_one()
        schools = session.execute(
            select(Organization.inn)
            .join(CuratorAssignment, CuratorAssignment.school_id == Organization.id)
            .where(CuratorAssignment.curator_id == ivanova)
        ).scalars()
        assert sorted(schools) == [inn(1), inn(4)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((0, 4, inn(2)), f"row 4, column «Школы»: '{inn(2)}' is not a school of this"),
        ((7, 4, inn(1)), "row 11, column «Школы»: only a curator or a municipal coordinator"),
        ((7, 2, "ivanova@example.org"), "is also in row 4 (one person has one role"),
    ],
)
def test_roles_that_do_not_curate_are_refused_in_the_people_file(
    roadmap, db, region, tmp_path, change, message
) -> None:
    rows = people_rows()
    row, column, value = change
    rows[row][column] = value
    path = write_xlsx(tmp_path / "p.xlsx", rows, PEOPLE_HEADER)
    code, _, err = roadmap("users", "import", str(path))
    assert code != 0 and message in err and "p.xlsx" in err
    with unit_of_work(db, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == 0
