"""Tenant scopes: each role lists exactly the occurrences of its own organizations."""

from __future__ import annotations

from datetime import date

import pytest

from engine.db import unit_of_work
from engine.errors import PermissionDeniedError, ValidationError
from engine.lifecycle.definition import SubjectKind
from engine.readmodels import subjects
from engine.readmodels.worklist import task_list
from tests.factories import app_for

TODAY = date(2024, 3, 1)


@pytest.mark.parametrize(
    ("login", "schools"),
    [
        ("school_a", {"Школа А"}),
        ("school_c", {"Школа В"}),
        ("curator_a", {"Школа А"}),
        ("curator_bc", {"Школа Б", "Школа В"}),
        ("coord_m1", {"Школа А", "Школа Б"}),
        ("coord_m2", {"Школа В"}),
        ("regional", {"Школа А", "Школа Б", "Школа В"}),
        ("admin", {"Школа А", "Школа Б", "Школа В"}),
    ],
)
def test_lists_are_scoped_to_the_tenant(world, login: str, schools: set[str]) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        rows = task_list(app_for(world.engine), session, world.actor(login), TODAY)[0].rows
    assert {row.school for row in rows} == schools


def test_a_school_cannot_filter_its_way_into_another(world) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        rows = task_list(
            app_for(world.engine), session, world.actor("school_a"), TODAY, school_id=world.school_b
        )[0].rows
    assert rows == []


def test_history_of_another_tenant_is_refused(world) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        assert (
            subjects.history(
                session, world.actor("coord_m1"), SubjectKind.OCCURRENCE, world.occurrence_b
            )
            == []
        )
        with pytest.raises(PermissionDeniedError):
            subjects.history(
                session, world.actor("coord_m2"), SubjectKind.OCCURRENCE, world.occurrence_b
            )


def test_page_size_is_bounded(world) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        with pytest.raises(ValidationError):
            task_list(app_for(world.engine), session, world.actor("admin"), TODAY, per_page=100_000)


def test_the_powers_table_gives_the_admin_the_accounts_and_no_work() -> None:
    from engine.accounts.access import POWERS, Power
    from engine.models import Role

    assert set(POWERS) == {role.value for role in Role}
    assert POWERS[Role.ADMIN] == {Power.SEE, Power.INVITE, Power.MANAGE, Power.ADMINISTER}
    curating = {role for role, powers in POWERS.items() if Power.CURATE in powers}
    assert curating == {Role.CURATOR, Role.MUNICIPAL_COORDINATOR}
    administrators = {role for role, powers in POWERS.items() if Power.ADMINISTER in powers}
    assert administrators == {Role.ADMIN}
    arrangers = {role for role, powers in POWERS.items() if Power.ARRANGE in powers}
    assert arrangers == {Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR}


@pytest.mark.parametrize("login", ["admin", "school_a", "curator_a"])
def test_only_coordinators_arrange_work(world, login: str) -> None:
    from datetime import date as day

    from engine.escalation.board import extend_deadline
    from engine.work.assignments import assign_curator

    with pytest.raises(PermissionDeniedError), unit_of_work(world.engine) as session:
        extend_deadline(session, world.actor(login), world.occurrence_a, day(2030, 1, 1), "x")
    curator = world.actor("curator_bc").id
    if login == "admin":  # who curates whom is the directory's, which the admin administers
        with unit_of_work(world.engine) as session:
            assign_curator(session, world.actor(login), curator, world.school_a)
    else:
        with pytest.raises(PermissionDeniedError), unit_of_work(world.engine) as session:
            assign_curator(session, world.actor(login), curator, world.school_a)
    with unit_of_work(world.engine) as session:  # a coordinator of the school may
        extend_deadline(session, world.actor("coord_m1"), world.occurrence_a, day(2030, 1, 1), "x")


def test_the_admin_cannot_import_a_roadmap(world) -> None:
    from engine.importing.document import read_roadmap
    from engine.usecases.importing import import_into_own_municipality
    from tests.builders import SEED_FILES
    from tests.factories import app_for

    draft = read_roadmap(SEED_FILES["003"])
    with pytest.raises(PermissionDeniedError), unit_of_work(world.engine) as session:
        import_into_own_municipality(app_for(world.engine), session, world.actor("admin"), draft)


def test_the_admin_sees_the_board_without_its_forms(demo, make_web_app) -> None:
    from tests.webclient import client_as

    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="t")
    admin = client_as(app, "admin").get("/escalations")
    coordinator = client_as(app, "coordinator").get("/escalations")
    assert admin.status_code == 200 and coordinator.status_code == 200
    assert (
        "/acknowledge" not in admin.text
        and "Загрузить" not in client_as(app, "admin").get("/roadmaps").text
    )
    assert "Загрузить дорожную карту" in client_as(app, "coordinator").get("/roadmaps").text
