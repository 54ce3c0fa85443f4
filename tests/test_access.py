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
