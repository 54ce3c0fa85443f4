"""A roadmap's own status: draft → active → closed, by coordinators of its owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import PermissionDeniedError, ValidationError
from engine.models import Roadmap
from engine.roadmaps import advance_roadmap


def _advance(world, login: str) -> str:
    with unit_of_work(world.engine) as session:
        roadmap_id = session.execute(select(Roadmap.id)).scalar_one()
        return advance_roadmap(session, world.actor(login), roadmap_id)


def test_roadmap_goes_draft_active_closed(world) -> None:
    assert _advance(world, "coord_m1") == "active"
    assert _advance(world, "regional") == "closed"
    with pytest.raises(ValidationError, match="cannot move further"):
        _advance(world, "coord_m1")


@pytest.mark.parametrize("login", ["coord_m2", "school_a", "curator_a"])
def test_only_coordinators_of_the_owner_may_change_it(world, login: str) -> None:
    with pytest.raises(PermissionDeniedError):
        _advance(world, login)
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(select(Roadmap.status)).scalar_one() == "draft"
