"""A small, fully known world for service tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

import workflows
from engine.accounts.access import Actor, load_actor
from engine.accounts.users import hash_password
from engine.app import App
from engine.db import unit_of_work
from engine.escalation.policy import PolicyBook
from engine.lifecycle.definition import SubjectKind, WorkflowRegistry
from engine.lifecycle.fire import TransitionResult, fire
from engine.models import (
    Activity,
    CuratorAssignment,
    Document,
    DocumentKind,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    RoadmapLevel,
    Role,
    Section,
    User,
)
from engine.settings import Settings
from engine.work.roadmaps import add_occurrences

PASSWORD = "test-password"

#: The product's lifecycles and policies, as every test that needs them shares them.
REGISTRY = WorkflowRegistry(workflows.DEFINITIONS, workflows.GUARDS)
POLICIES = PolicyBook(workflows.POLICIES, REGISTRY)


def app_for(db: Engine) -> App:
    """The application as the product builds it, on a test database."""
    settings = Settings.from_env({"DATABASE_URL": str(db.url)})
    return App(settings, db, REGISTRY, POLICIES)


@cache
def password_hash() -> str:
    """One scrypt hash for every test user: hashing costs ~0.1 s by design."""
    return hash_password(PASSWORD)


DUE = date(2024, 3, 31)


@dataclass(frozen=True)
class World:
    """Ids of everything `build_world` made; actors are loaded by login."""

    engine: Engine
    region: int
    municipality: int
    other_municipality: int
    school_a: int
    school_b: int
    school_c: int
    activity: int
    occurrence_a: int
    occurrence_b: int
    occurrence_c: int

    def actor(self, login: str) -> Actor:
        """The actor signed in as `login`."""
        with unit_of_work(self.engine, readonly=True) as session:
            return load_actor(session, login)

    def state(self, occurrence_id: int) -> str:
        """The committed state of an occurrence."""
        with unit_of_work(self.engine, readonly=True) as session:
            return session.get(Occurrence, occurrence_id).state  # type: ignore[union-attr]


def _org(session: Session, kind: OrganizationKind, name: str, parent: int | None) -> int:
    org = Organization(kind=kind, name=name, parent_id=parent)
    session.add(org)
    session.flush()
    return org.id  # type: ignore[return-value]


def build_world(engine: Engine, registry: WorkflowRegistry) -> World:
    """Region → municipalities M1 (schools A, B) and M2 (school C); one occurrence each.

    Users: school_a, school_b, school_c; curator_a (school A only), curator_bc (B and C);
    coord_m1, coord_m2 (municipal coordinators); regional; admin.
    """
    with unit_of_work(engine) as session:
        region = _org(session, OrganizationKind.REGION, "Область", None)
        m1 = _org(session, OrganizationKind.MUNICIPALITY, "Район 1", region)
        m2 = _org(session, OrganizationKind.MUNICIPALITY, "Район 2", region)
        a = _org(session, OrganizationKind.SCHOOL, "Школа А", m1)
        b = _org(session, OrganizationKind.SCHOOL, "Школа Б", m1)
        c = _org(session, OrganizationKind.SCHOOL, "Школа В", m2)
        users = [
            ("school_a", Role.SCHOOL, a),
            ("school_b", Role.SCHOOL, b),
            ("school_c", Role.SCHOOL, c),
            ("curator_a", Role.CURATOR, None),
            ("curator_bc", Role.CURATOR, None),
            ("coord_m1", Role.MUNICIPAL_COORDINATOR, m1),
            ("coord_m2", Role.MUNICIPAL_COORDINATOR, m2),
            ("regional", Role.REGIONAL_COORDINATOR, region),
            ("admin", Role.ADMIN, None),
        ]
        ids = {}
        for login, role, org in users:
            user = User(
                login=login,
                full_name=login,
                role=role,
                email=f"{login}@roadmap.test",
                password_hash=password_hash(),
                organization_id=org,
            )
            session.add(user)
            session.flush()
            ids[login] = user.id
        session.add_all(
            [
                CuratorAssignment(curator_id=ids["curator_a"], school_id=a),
                CuratorAssignment(curator_id=ids["curator_bc"], school_id=b),
                CuratorAssignment(curator_id=ids["curator_bc"], school_id=c),
            ]
        )
        roadmap = Roadmap(
            title="Тестовая дорожная карта",
            level=RoadmapLevel.MUNICIPAL,
            owner_id=m1,
            period_start=date(2023, 9, 1),
            period_end=date(2024, 8, 31),
        )
        session.add(roadmap)
        session.flush()
        section = Section(roadmap_id=roadmap.id, number="1", title="Раздел")
        session.add(section)
        session.flush()
        activity = Activity(
            roadmap_id=roadmap.id,
            section_id=section.id,
            number="1.1",
            title="Консультирование родителей",
            deadline_text="I квартал 2024",
        )
        session.add(activity)
        session.flush()
        add_occurrences(session, registry.for_subject("occurrence"), activity.id, [a, b, c], [DUE])
        occ = dict(
            session.execute(
                select(Occurrence.assignee_id, Occurrence.id).where(
                    Occurrence.activity_id == activity.id
                )
            ).all()
        )
    return World(engine, region, m1, m2, a, b, c, activity.id, occ[a], occ[b], occ[c])


def add_document(world: World, registry: WorkflowRegistry, school_id: int) -> int:
    """A draft self-diagnostic of `school_id`."""
    definition = registry.for_subject("document").definition
    with unit_of_work(world.engine) as session:
        doc = Document(
            school_id=school_id,
            kind=DocumentKind.SELF_DIAGNOSTIC,
            title="Самодиагностика",
            state=definition.initial,
            workflow_name=definition.name,
            workflow_version=definition.version,
        )
        session.add(doc)
        session.flush()
        return doc.id  # type: ignore[return-value]


def count_occurrences(
    engine: Engine, *, schools: list[str] | None = None, curator: str | None = None
) -> int:
    """How many occurrences the database holds: of the named schools, of a curator's schools,
    or all; tests compare what a page or the API lists against it."""
    query = select(func.count()).select_from(Occurrence)
    if schools is not None:
        query = query.join(Organization, Organization.id == Occurrence.assignee_id).where(
            Organization.name.in_(schools)
        )
    if curator is not None:
        query = (
            query.join(CuratorAssignment, CuratorAssignment.school_id == Occurrence.assignee_id)
            .join(User, User.id == CuratorAssignment.curator_id)
            .where(User.login == curator)
        )
    with unit_of_work(engine, readonly=True) as session:
        return session.execute(query).scalar_one()


def fire_as(
    world: World,
    registry: WorkflowRegistry,
    subject_id: int,
    trigger: str,
    login: str,
    *,
    kind: SubjectKind = SubjectKind.OCCURRENCE,
    **details: Any,
) -> TransitionResult:
    """Fire `trigger` on one subject as `login`, in a unit of work of its own."""
    with unit_of_work(world.engine) as session:
        return fire(session, registry, kind, subject_id, trigger, world.actor(login), **details)
