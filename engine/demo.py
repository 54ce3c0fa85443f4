"""Demo data: a region, a municipality, five schools, their people and a real roadmap.

The roadmap is Приложение №2 of the Ершичский district order №159 (seed 003), entered by
hand; its dates are moved to the academic year that contains `today`, so the demo stays live.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from engine.accounts.access import Actor, load_actor
from engine.accounts.users import hash_password
from engine.deadlines.parser import Period, month_end, parse_deadline
from engine.directory.people import PersonRow, apply_people, plan_people, read_people
from engine.directory.schools import apply_directory, plan_directory, read_directory
from engine.lifecycle.definition import Phase, SubjectKind, WorkflowRegistry
from engine.lifecycle.fire import fire, load_subject
from engine.models import (
    Activity,
    Indicator,
    IndicatorDirection,
    IndicatorScope,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    RoadmapLevel,
    RoadmapParticipant,
    RoadmapStatus,
    Role,
    Section,
    User,
)
from engine.work.roadmaps import add_occurrences

DEMO_PASSWORD = "demo-2024"

SCHOOLS = (
    "МБОУ Ершичская СШ",
    "МБОУ Руссковская СШ",
    "МБОУ Поселковская СШ",
    "МБОУ Егоровская ОШ",
    "МБОУ Кузьмичская ОШ",
)


@dataclass(frozen=True)
class DemoLogin:
    """One printed demo account."""

    login: str
    role: str
    who: str


def academic_year_start(today: date) -> int:
    """The calendar year in which the academic year containing `today` began."""
    return today.year if today.month >= 9 else today.year - 1


def _activities(y1: int) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    """Sections of the roadmap: (number, title, activities as tuples)."""
    y2 = y1 + 1
    months = [(y1, m) for m in range(9, 13)] + [(y2, m) for m in range(1, 9)]
    monthly = [month_end(y, m) for y, m in months]
    quarterly = [month_end(y, m) for y, m in months if m in (3, 6, 9, 12)]
    institutional = "Институциональный"
    municipal = "Муниципальный"
    return [
        (
            "1",
            "Организационно-управленческое направление",
            [
                (
                    "1.1",
                    municipal,
                    "Разработка и утверждение Плана мероприятий (муниципальной "
                    "дорожной карты) по профилактике учебной неуспешности в образовательных "
                    "организациях района",
                    f"ноябрь {y1}",
                    "Отдел по образованию",
                    None,
                ),
                (
                    "1.2",
                    municipal,
                    "Инструктивные совещания по реализации мер внутришкольной "
                    "системы профилактики учебной неуспешности",
                    "ежеквартально",
                    "Отдел по образованию",
                    None,
                ),
                (
                    "1.3",
                    institutional,
                    "Разработка и утверждение Плана мероприятий (школьной "
                    "дорожной карты) по профилактике учебной неуспешности",
                    f"ноябрь {y1}",
                    "ОО",
                    [month_end(y1, 11)],
                ),
                (
                    "1.4",
                    institutional,
                    "Разработка и внедрение программных документов по "
                    "профилактике учебной неуспешности",
                    f"ноябрь {y1}",
                    "ОО",
                    [month_end(y1, 11)],
                ),
                (
                    "1.5",
                    institutional,
                    "Участие в инструктивных совещаниях по реализации мер "
                    "внутришкольной системы профилактики учебной неуспешности",
                    "ежеквартально",
                    "Отдел по образованию",
                    quarterly,
                ),
            ],
        ),
        (
            "2",
            "Информационно-аналитическое направление",
            [
                (
                    "2.1",
                    municipal,
                    "Обеспечение участия образовательных организаций в мониторинге "
                    "эффективности работы по профилактике учебной неуспешности",
                    f"март {y2}",
                    "Отдел по образованию, МОЦ",
                    None,
                ),
                (
                    "2.2",
                    municipal,
                    "Анализ результатов мониторинга эффективности работы по "
                    "профилактике учебной неуспешности в ОО",
                    f"апрель-май {y2}",
                    "Отдел по образованию",
                    None,
                ),
                (
                    "2.3",
                    institutional,
                    "Участие в вебинаре «Результаты мониторинга эффективности "
                    "работы по профилактике учебной неуспешности в ОО муниципалитета»",
                    f"июль {y2}",
                    "ОО",
                    [month_end(y2, 7)],
                ),
            ],
        ),
        (
            "3",
            "Организационно-методическое направление",
            [
                (
                    "3.2",
                    municipal,
                    "Цикл муниципальных методических семинаров по проектированию "
                    "индивидуальных образовательных маршрутов неуспевающих школьников",
                    f"I квартал (февраль) {y2}",
                    "Отдел по образованию РУМО (предметные ОМО)",
                    None,
                ),
                (
                    "3.4",
                    institutional,
                    "Учет несовершеннолетних неуспевающих и слабоуспевающих обучающихся",
                    f"ноябрь {y1}, июль {y2}",
                    "ОО",
                    [month_end(y1, 11), month_end(y2, 7)],
                ),
                (
                    "3.5",
                    institutional,
                    "Консультирование родителей по проблемам причин школьной "
                    "неуспеваемости и личностного развития обучающихся",
                    "ежемесячно",
                    "ОО",
                    monthly,
                ),
                (
                    "3.6",
                    institutional,
                    "Психолого-педагогическая помощь участникам образовательных отношений",
                    "ежеквартально (по запросу)",
                    "ОО",
                    quarterly,
                ),
                (
                    "3.7",
                    institutional,
                    "Разработка индивидуальных траекторий для обучающихся, "
                    "имеющих риски учебной неуспешности и особые образовательные потребности",
                    f"ноябрь-декабрь {y1}",
                    "ОО",
                    [month_end(y1, 12)],
                ),
                (
                    "3.8",
                    institutional,
                    "Формирование наставнических пар «ученик-ученик», "
                    "«учитель-ученик», реализация наставнических программ",
                    f"январь-май {y2}",
                    "ОО",
                    [month_end(y2, 5)],
                ),
                (
                    "3.9",
                    institutional,
                    "Рассмотрение коллегиальными органами ОО вопросов "
                    "профилактики учебной неуспеваемости",
                    "ежеквартально",
                    "ОО",
                    quarterly,
                ),
            ],
        ),
    ]


#: The directory and people files the demo is loaded from, through the real import.
DEMO_DATA = Path(__file__).with_name("demo_data")
DEMO_ACTOR = "demo"


def _who(session: Session, person: PersonRow) -> str:
    """What a demo account stands for, as printed beside its login."""
    if person.role == Role.CURATOR:
        names = session.execute(
            select(Organization.short_name).where(Organization.id.in_(person.schools))
        ).scalars()
        return ", ".join(sorted(n or "" for n in names))
    if person.organization_id is None:
        return "вся система"
    organization = session.get(Organization, person.organization_id)
    return organization.name if organization else ""


def demo_present(session: Session) -> bool:
    """Whether the demo has been loaded already."""
    return session.execute(select(User.id).where(User.login == "coordinator")).first() is not None


def load_demo(session: Session, registry: WorkflowRegistry, today: date) -> list[DemoLogin]:
    """Create the demo in the caller's transaction and return its logins."""
    listed = read_directory(DEMO_DATA / "directory.csv")
    apply_directory(session, plan_directory(session, listed, "directory.csv"), DEMO_ACTOR)
    people = read_people(session, DEMO_DATA / "people.csv")
    apply_people(session, plan_people(session, people, "people.csv"), DEMO_ACTOR, "", invite=False)
    # the demo's password is public, so it is set here rather than by invitation
    session.execute(
        update(User)
        .where(User.email.in_([p.email for p in people]))
        .values(password_hash=hash_password(DEMO_PASSWORD))
    )
    municipality = session.execute(
        select(Organization).where(Organization.kind == OrganizationKind.MUNICIPALITY)
    ).scalar_one()
    schools = list(
        session.execute(
            select(Organization)
            .where(Organization.kind == OrganizationKind.SCHOOL)
            .order_by(Organization.id)
        ).scalars()
    )
    logins = [DemoLogin(p.login or p.email, p.role, _who(session, p)) for p in people]

    y1 = academic_year_start(today)
    roadmap = Roadmap(
        title="План мероприятий (дорожная карта) по профилактике учебной неуспешности в "
        f"общеобразовательных организациях МО – Ершичский район в {y1}/{y1 + 1} учебном году",
        level=RoadmapLevel.MUNICIPAL,
        owner_id=municipality.id,
        period_start=date(y1, 9, 1),
        period_end=date(y1 + 1, 8, 31),
        order_number="159",
        order_date=date(y1, 10, 30),
        status=RoadmapStatus.ACTIVE,
    )
    session.add(roadmap)
    session.flush()
    session.add_all(RoadmapParticipant(roadmap_id=roadmap.id, school_id=s.id) for s in schools)

    lifecycle = registry.for_subject(SubjectKind.OCCURRENCE)
    school_ids = [s.id for s in schools]
    period = Period(roadmap.period_start, roadmap.period_end)
    position = 0
    for section_position, (number, title, rows) in enumerate(_activities(y1)):
        section = Section(
            roadmap_id=roadmap.id, number=number, title=title, position=section_position
        )
        session.add(section)
        session.flush()
        for act_number, level, act_title, deadline, responsible, due_dates in rows:
            position += 1
            activity = Activity(
                roadmap_id=roadmap.id,
                section_id=section.id,
                number=act_number,
                title=act_title,
                level=level,
                deadline_text=deadline,
                schedule=parse_deadline(deadline, period).to_dict(),
                responsible_text=responsible,
                position=position,
            )
            session.add(activity)
            session.flush()
            if due_dates:
                add_occurrences(session, lifecycle, activity.id, school_ids, due_dates)
    _indicators(session, roadmap.id, y1)
    _play_first_month(session, registry, y1)
    return logins


def _indicators(session: Session, roadmap_id: int, y1: int) -> None:
    """Two target indicators of each school, for the demo's monitoring rounds."""
    due = date(y1 + 1, 5, 31)
    teachers = (
        "Доля педагогов, прошедших курсы повышения квалификации по работе "
        "с обучающимися с трудностями в учёбе"
    )
    grades = "Доля обучающихся, успевающих на «4» и «5»"
    session.add_all(
        [
            Indicator(
                roadmap_id=roadmap_id,
                title=teachers,
                text=f"{teachers} — не менее 90 % к {due:%d.%m.%Y}",
                target_value=90,
                unit="%",
                direction=IndicatorDirection.AT_LEAST,
                due=[due.isoformat()],
                due_text=f"к {due:%d.%m.%Y}",
                scope=IndicatorScope.SCHOOL,
                position=0,
            ),
            Indicator(
                roadmap_id=roadmap_id,
                title=grades,
                text=f"{grades}: рост на 5 % к концу учебного года (в {y1} году — 38 %)",
                target_value=5,
                unit="%",
                direction=IndicatorDirection.INCREASE_BY,
                baseline=38,
                due=[due.isoformat()],
                due_text="к концу учебного года",
                scope=IndicatorScope.SCHOOL,
                position=1,
            ),
        ]
    )


def _play_first_month(session: Session, registry: WorkflowRegistry, y1: int) -> None:
    """Move September's consultations along, so queues and histories are not empty."""
    september = month_end(y1, 9)
    rows = session.execute(
        select(Occurrence.id, Occurrence.assignee_id)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(Activity.number == "3.5", Occurrence.due_on == september)
        .order_by(Occurrence.assignee_id)
    ).all()
    curator1 = load_actor(session, "curator1")
    for index, (occurrence_id, _school) in enumerate(rows, start=1):
        school = load_actor(session, f"school{index}")
        if index == 5:
            continue  # the fifth school has not started: overdue work for the demo
        move = functools.partial(_move_into, session, registry, occurrence_id)
        move(Phase.OPEN, school)  # started
        if index == 4:
            continue
        report = "Проведено 3 консультации для родителей, журнал консультаций ведётся."
        move(Phase.UNDER_REVIEW, school, report_text=report)
        if index == 1:
            move(Phase.DONE, curator1)
        elif index == 2:
            move(Phase.OPEN, curator1, comment="Приложите журнал консультаций (скан или PDF).")


def _move_into(
    session: Session,
    registry: WorkflowRegistry,
    occurrence_id: int,
    phase: Phase,
    actor: Actor,
    **details: str,
) -> None:
    """Fire the rule that takes the occurrence from where it is into a state of `phase`."""
    ref = load_subject(session, SubjectKind.OCCURRENCE, occurrence_id)
    definition = registry.get(ref.workflow_name, ref.workflow_version).definition
    rule = definition.rule_into(ref.state, phase)
    if rule is None:
        raise ValueError(f"{definition.name}: no way from {ref.state} into {phase.key}")
    fire(session, registry, SubjectKind.OCCURRENCE, occurrence_id, rule.trigger, actor, **details)
