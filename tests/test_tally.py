"""The progress tally: its triggers count every write as a rebuild would, a change they cannot
follow waits for a rebuild, and the dashboard's figures are the same from the tally and from
the occurrences (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import aliased

from engine.accounts.access import load_actor
from engine.db import unit_of_work
from engine.deadlines.parser import Period
from engine.escalation.board import extend_deadline
from engine.importing.apply import import_roadmap
from engine.importing.sources import read_text
from engine.importing.structure import recover
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import (
    ROLLUP_SLOTS,
    Activity,
    Occurrence,
    Organization,
    OrganizationKind,
    ProgressDaily,
    ProgressRollup,
    ProgressTally,
    ProgressTallyDay,
    Roadmap,
    Section,
    TransitionLog,
)
from engine.readmodels.progress import progress_by, sections_progress
from engine.readmodels.tally import holds, refresh, tally_day
from engine.readmodels.worklist import WorkFilter
from tests.conftest import DEMO_DAY
from tests.factories import REGISTRY, app_for
from tests.test_desk import SECOND_ROADMAP, neighbour, send_for_review

ZONE = "Europe/Moscow"


def counted(session) -> dict[tuple, int]:
    """The rows of the tally and of the rollup that count something: key → n."""
    t, r = ProgressTally, ProgressRollup
    tally = session.execute(
        select(t.assignee_id, t.roadmap_id, t.section_key, t.state, t.history, t.due)
        .add_columns(t.municipality_id, t.n)
        .where(t.n != 0)
    ).all()
    rollup = session.execute(
        select(r.municipality_id, r.roadmap_id, r.section_key, r.state, r.history, r.due)
        .add_columns(r.slot, r.n)
        .where(r.n != 0)
    ).all()
    d = ProgressDaily
    daily = session.execute(select(d.municipality_id, d.slot, d.day, d.state, d.n)).all()
    return (
        {("tally", *row[:7]): row[7] for row in tally}
        | {("rollup", *row[:7]): row[7] for row in rollup}
        | {("daily", *row[:4]): row[4] for row in daily if row[4]}
    )


def rebuilt(session) -> dict[tuple, int]:
    """What a rebuild as of the tally's day, in its time zone, counts."""
    day, zone = session.execute(select(ProgressTallyDay.as_of, ProgressTallyDay.zone)).one()
    session.execute(update(ProgressTallyDay).values(as_of=None))
    refresh(session, day, zone)
    return counted(session)


def fire_on(session, login: str, occurrence: int, *triggers: str, **fields) -> None:
    actor = load_actor(session, login)
    for trigger in triggers:
        fire(session, REGISTRY, SubjectKind.OCCURRENCE, occurrence, trigger, actor, **fields)


def test_the_triggers_count_every_write_as_a_rebuild_would(demo) -> None:
    with unit_of_work(demo) as session:
        assert refresh(session, DEMO_DAY, ZONE)
        assert not refresh(session, DEMO_DAY, ZONE)  # current: nothing to do
        before = counted(session)
        assert before == rebuilt(session) and before
    # inserts: a second roadmap imported for the municipality's schools
    with unit_of_work(demo) as session:
        municipality = session.execute(
            select(Organization).where(Organization.name == "Ершичский район")
        ).scalar_one()
        first = session.execute(select(Roadmap)).scalars().first()
        draft = recover(
            read_text(SECOND_ROADMAP), "plan.md", Period(first.period_start, first.period_end)
        )
        import_roadmap(session, REGISTRY, draft, municipality)
    # state changes in both directions, by the school, the curator and the coordinator
    reported = send_for_review(demo, "school1", 4)
    with unit_of_work(demo) as session:
        fire_on(session, "curator1", reported[0], "approve")
        fire_on(session, "curator1", reported[1], "return", comment="переделать")
        fire_on(session, "school1", reported[1], "rework")
        fire_on(session, "coordinator", reported[2], "cancel", comment="не проводится")
    # a due date moved from the past into the future, and work kept as history
    with unit_of_work(demo) as session:
        late = session.execute(
            select(Occurrence.id)
            .where(Occurrence.due_on < DEMO_DAY, Occurrence.history.is_(False))
            .where(Occurrence.state == REGISTRY.current("activity").definition.initial)
            .order_by(Occurrence.id)
            .limit(2)
        ).scalars()
        moved, kept = list(late)
        extend_deadline(
            session, load_actor(session, "coordinator"), moved, DEMO_DAY + timedelta(days=40), "x"
        )
        session.execute(update(Occurrence).where(Occurrence.id == kept).values(history=True))
        session.execute(  # due today
            update(Occurrence)
            .where(Occurrence.id == reported[3])
            .values(due_on=DEMO_DAY, scheduled_on=DEMO_DAY)
        )
    # deletes: occurrences no log names
    with unit_of_work(demo) as session:
        loose = (
            select(Occurrence.id)
            .where(~exists().where(TransitionLog.occurrence_id == Occurrence.id))
            .order_by(Occurrence.id.desc())
            .limit(3)
        )
        gone = session.execute(delete(Occurrence).where(Occurrence.id.in_(loose))).rowcount
        assert gone == 3
    with unit_of_work(demo) as session:
        assert tally_day(session) == DEMO_DAY  # the triggers followed every change
        followed = counted(session)
        assert followed != before
        assert followed == rebuilt(session)
        if session.get_bind().dialect.name == "postgresql":  # the days states were entered
            entered = {key[4] for key in followed if key[0] == "daily"}
            assert {"approved", "returned", "in_progress", "cancelled"} <= entered


def test_a_change_the_triggers_cannot_follow_waits_for_a_rebuild(demo) -> None:
    """An activity moved to another section (or a school to another municipality) leaves
    the tally without a day: the dashboards count the occurrences until it is rebuilt."""
    with unit_of_work(demo) as session:
        refresh(session, DEMO_DAY)
        assert holds(session, DEMO_DAY, WorkFilter())
        activity = (
            session.execute(
                select(Activity).where(Activity.section_id.is_not(None)).order_by(Activity.id)
            )
            .scalars()
            .first()
        )
        other = (
            session.execute(
                select(Section.id).where(
                    Section.roadmap_id == activity.roadmap_id, Section.id != activity.section_id
                )
            )
            .scalars()
            .first()
        )
        session.execute(update(Activity).where(Activity.id == activity.id).values(title="x"))
        assert tally_day(session) == DEMO_DAY  # a change of no count's concern
        session.execute(update(Activity).where(Activity.id == activity.id).values(section_id=other))
        assert tally_day(session) is None
        assert not holds(session, DEMO_DAY, WorkFilter())
    with unit_of_work(demo) as session:
        school = (
            session.execute(
                select(Organization)
                .where(Organization.kind == OrganizationKind.SCHOOL)
                .order_by(Organization.id)
            )
            .scalars()
            .first()
        )
        region = session.get(Organization, school.parent_id).parent_id
        neighbour = Organization(
            kind=OrganizationKind.MUNICIPALITY, name="Соседний район", parent_id=region
        )
        session.add(neighbour)
        session.flush()
        elsewhere = neighbour.id
        refresh(session, DEMO_DAY)
        session.execute(
            update(Organization).where(Organization.id == school.id).values(name="Школа")
        )
        assert tally_day(session) == DEMO_DAY
        session.execute(
            update(Organization).where(Organization.id == school.id).values(parent_id=elsewhere)
        )
        assert tally_day(session) is None
        refresh(session, DEMO_DAY)
        assert counted(session) == rebuilt(session)
        rows = counted(session)
        moved = [key for key in rows if key[:2] == ("tally", school.id)]
        assert moved and all(key[7] == elsewhere for key in moved)
        slot = school.id % ROLLUP_SLOTS
        assert any(key[:2] == ("rollup", elsewhere) and key[7] == slot for key in rows)


def test_a_new_day_or_a_period_reads_the_occurrences(demo) -> None:
    with unit_of_work(demo) as session:
        refresh(session, DEMO_DAY)
        assert holds(session, DEMO_DAY, WorkFilter(roadmap_id=1, municipality_id=2))
        assert not holds(session, DEMO_DAY + timedelta(days=1), WorkFilter())
        assert not holds(session, DEMO_DAY, WorkFilter(due_from=DEMO_DAY))
        assert not holds(session, DEMO_DAY, WorkFilter(due_to=DEMO_DAY))
        assert refresh(session, DEMO_DAY + timedelta(days=1))
        assert tally_day(session) == DEMO_DAY + timedelta(days=1)


@pytest.mark.parametrize("login", ["coordinator", "regional"])
def test_the_dashboard_counts_the_same_from_the_tally_and_the_occurrences(demo, login) -> None:
    reported = send_for_review(demo, "school2", 2)
    with unit_of_work(demo) as session:  # work due today, open and done, and history
        initial = REGISTRY.current("activity").definition.initial
        taken = aliased(Occurrence)
        free_today = ~exists().where(
            taken.activity_id == Occurrence.activity_id,
            taken.assignee_id == Occurrence.assignee_id,
            taken.due_on == DEMO_DAY,
        )
        open_one = (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.state == initial, Occurrence.due_on > DEMO_DAY, free_today)
                .order_by(Occurrence.id)
            )
            .scalars()
            .first()
        )
        session.execute(update(Occurrence).where(Occurrence.id == open_one).values(due_on=DEMO_DAY))
        fire_on(session, "curator1", reported[0], "approve")
        session.execute(
            update(Occurrence)
            .where(Occurrence.state == initial, Occurrence.due_on < DEMO_DAY)
            .where(Occurrence.id % 3 == 0)
            .values(history=True)
        )
    with unit_of_work(demo) as session:  # work of a neighbour municipality, and the region's
        first = session.execute(select(Roadmap)).scalars().first()
        draft = recover(
            read_text(SECOND_ROADMAP), "plan.md", Period(first.period_start, first.period_end)
        )
        foreign, home = neighbour(session, "Соседний район")
        import_roadmap(session, REGISTRY, draft, foreign)
        region = session.get(Organization, foreign.parent_id)
        import_roadmap(session, REGISTRY, draft, region)
        owners = set(session.execute(select(Occurrence.assignee_id).distinct()).scalars())
        assert {foreign.id, region.id} <= owners
    product = app_for(demo)
    with unit_of_work(demo) as session:
        actor = load_actor(session, login)
        roadmap = session.execute(select(Roadmap.id)).scalars().first()
        narrowings = [WorkFilter(), WorkFilter(roadmap_id=roadmap)]
        municipality = actor.organization_id
        narrowings.append(WorkFilter(municipality_id=municipality))

        def figures() -> list:
            return [
                (
                    progress_by(product, session, actor, DEMO_DAY, narrow, municipalities=m),
                    sections_progress(product, session, actor, DEMO_DAY, narrow),
                )
                for narrow in narrowings
                for m in (False, True)
            ]

        live = figures()
        areas = {area.id for rows, _ in live for area in rows}
        if login == "regional":
            assert {home, foreign.id, region.id} <= areas
        else:
            assert home in areas and not {foreign.id, region.id} & areas
        refresh(session, DEMO_DAY)
        assert holds(session, DEMO_DAY, WorkFilter())
        tallied = figures()
        assert tallied == live
        assert any(area.figures.overdue for rows, _ in live for area in rows)
        assert any(area.figures.done_due for rows, _ in live for area in rows)


def test_the_scheduler_rebuilds_the_tally_once_a_day_where_the_product_is(demo) -> None:
    from worker.jobs import run_tally

    product = app_for(demo)
    moment = datetime(2024, 1, 10, 23, 30, tzinfo=UTC)
    day = moment.astimezone(ZoneInfo(product.settings.timezone)).date()
    assert run_tally(product, moment)
    assert not run_tally(product, moment + timedelta(minutes=1))
    with unit_of_work(demo, readonly=True) as session:
        assert tally_day(session) == day
        assert counted(session)


def test_the_region_sees_one_bar_per_section_however_many_copies(demo) -> None:
    """Each municipality's copy of the same roadmap adds to one section, not a bar each."""
    with unit_of_work(demo) as session:
        first = session.execute(select(Roadmap)).scalars().first()
        draft = recover(
            read_text(SECOND_ROADMAP), "plan.md", Period(first.period_start, first.period_end)
        )
        for name in ("Первый район", "Второй район"):
            municipality, home = neighbour(session, name)
            import_roadmap(session, REGISTRY, draft, municipality)
            session.add(
                Organization(name=f"Школа ({name})", kind="school", parent_id=municipality.id)
            )
        import_roadmap(session, REGISTRY, draft, session.get(Organization, home))
    product = app_for(demo)
    with unit_of_work(demo) as session:
        regional = load_actor(session, "regional")
        live = sections_progress(product, session, regional, DEMO_DAY, WorkFilter())
        refresh(session, DEMO_DAY)
        tallied = sections_progress(product, session, regional, DEMO_DAY, WorkFilter())
        per_roadmap = (
            session.execute(select(Roadmap.id).where(Roadmap.title == draft.title)).scalars().all()
        )
    names = [s.section for s in live]
    assert len(per_roadmap) == 3 and len(names) == len(set(names))
    assert tallied == live
    seeded = [s for s in live if s.section in {f"{a.section}" for a in draft.activities}]
    assert seeded and all(s.total >= 3 for s in seeded)
