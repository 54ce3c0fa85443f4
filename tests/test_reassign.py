"""Handing work on: only within the municipality whose roadmap it is, and the board offers
exactly those organizations."""

from __future__ import annotations

import pytest

from engine.db import unit_of_work
from engine.errors import ValidationError
from engine.models import Occurrence
from engine.readmodels.roadmaps import assignment_targets
from engine.work.assignments import reassign


def test_work_goes_only_to_its_own_municipality(world, registry) -> None:
    regional = world.actor("regional")
    with unit_of_work(world.engine) as session, pytest.raises(ValidationError) as refused:
        reassign(session, registry, regional, world.occurrence_a, world.school_c, "Передаём")
    assert refused.value.reason == "other_municipality"
    with unit_of_work(world.engine) as session:
        reassign(session, registry, regional, world.occurrence_a, world.municipality, "Сами")
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.get(Occurrence, world.occurrence_a).assignee_id == world.municipality


def test_the_targets_of_each_assignee_are_its_municipality_and_its_schools(world) -> None:
    with unit_of_work(world.engine, readonly=True) as session:
        regional = assignment_targets(
            session, world.actor("regional"), [world.school_a, world.school_c, world.municipality]
        )
        own = assignment_targets(session, world.actor("coord_m1"), [world.school_a])
        nothing = assignment_targets(session, world.actor("coord_m1"), [])
    m1 = [world.municipality, world.school_a, world.school_b]
    assert [i for i, _ in regional[world.school_a]] == m1
    assert [i for i, _ in regional[world.municipality]] == m1
    assert [i for i, _ in regional[world.school_c]] == [world.other_municipality, world.school_c]
    assert [i for i, _ in own[world.school_a]] == m1
    assert nothing == {}
