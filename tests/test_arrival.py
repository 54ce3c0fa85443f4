"""Work that arrives past due: the dry run counts it and warns, the import keeps it as
history by default (never escalated), moves it to one new date, or keeps it overdue; the
web confirmation needs the warnings acknowledged."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.accounts.access import load_actor
from engine.db import unit_of_work
from engine.importing.arrival import territory_warnings
from engine.models import Activity, Escalation, ImportJob, Occurrence, Roadmap
from tests.builders import SEED_FILES
from tests.factories import POLICIES
from tests.sweeping import at
from tests.webclient import client_as, import_and_wait

NEFTEKUMSK = str(SEED_FILES["000"])  # Нефтекумский городской округ, 2023–2025


def _theirs(db) -> tuple[list, int]:  # type: ignore[no-untyped-def]
    """The imported roadmap's occurrences (due, scheduled on, held) and its escalations."""
    with unit_of_work(db, readonly=True) as session:
        newest = session.execute(select(func.max(Roadmap.id))).scalar_one()
        ids = select(Occurrence.id).join(Activity).where(Activity.roadmap_id == newest)
        rows = session.execute(
            select(
                Occurrence.activity_id,
                Occurrence.assignee_id,
                Occurrence.due_on,
                Occurrence.scheduled_on,
                Occurrence.escalation_held,
            ).where(Occurrence.id.in_(ids), Occurrence.scheduled.is_(True))
        ).all()
        raised = session.execute(
            select(func.count()).where(Escalation.occurrence_id.in_(ids))
        ).scalar_one()
    return rows, raised


def _overdue_on_the_dashboard(db) -> int:  # type: ignore[no-untyped-def]
    import workflows
    from engine.app import App
    from engine.readmodels.progress import dashboard
    from engine.settings import Settings

    app = App.build(Settings.from_env({}), workflows.CATALOG, db=db)
    with unit_of_work(db, readonly=True) as session:
        actor = load_actor(session, "coordinator")
        schools, _ = dashboard(app, session, actor, date(2026, 12, 2))
    return sum(s.overdue for s in schools)


def _sweep(db) -> None:  # type: ignore[no-untyped-def]
    from engine.escalation.sweep import sweep

    sweep(db, POLICIES, at("2026-12-02 10:00"))


def test_the_dry_run_counts_past_due_work_and_warns(roadmap, demo) -> None:
    code, out, err = roadmap("import", NEFTEKUMSK, "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    summary = data["summary"]
    assert summary["occurrences"] == 171 and summary["past_due_on_arrival"] == 170
    assert summary["assignees"] == 6  # the demo's five schools and the municipality
    assert "Директор МКОУ СОШ №19" in summary["unresolved"]
    codes = [w["code"] for w in data["warnings"] if "code" in w]
    assert codes == ["other_territory", "period_over", "mostly_past_due", "unresolved"]
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(Roadmap)).scalar_one() == 1
    code, out, err = roadmap("import", NEFTEKUMSK, "--dry-run")
    assert "171 for 6 assignees, 170 of them past due" in out
    assert "WARNING: the document names another municipality than Ершичский район" in err


def test_past_due_work_arrives_as_history_and_is_never_escalated(roadmap, demo) -> None:
    overdue_before = _overdue_on_the_dashboard(demo)
    code, out, err = roadmap("import", NEFTEKUMSK, "--json")
    assert code == 0, err
    assert json.loads(out)["past_due"] == "history"
    rows, _ = _theirs(demo)
    past = [r for r in rows if r.due_on < date(2026, 12, 2)]
    assert len(past) == 170 and all(r.escalation_held for r in past)
    assert all(r.scheduled_on == r.due_on for r in rows)
    _sweep(demo)
    assert _theirs(demo)[1] == 0
    assert _overdue_on_the_dashboard(demo) == overdue_before  # history is not overdue


def test_kept_overdue_it_escalates(roadmap, demo) -> None:
    code, _, err = roadmap("import", NEFTEKUMSK, "--past-due", "keep")
    assert code == 0, err
    rows, _ = _theirs(demo)
    assert not any(r.escalation_held for r in rows)
    assert _overdue_on_the_dashboard(demo) >= 170
    _sweep(demo)
    assert _theirs(demo)[1] >= 170


def test_moved_to_one_date_the_latest_of_each_moves_and_a_reimport_changes_nothing(
    roadmap, demo
) -> None:
    new_date = (date.today() + timedelta(days=30)).isoformat()
    code, _, err = roadmap("import", NEFTEKUMSK, "--past-due", new_date)
    assert code == 0, err
    rows, _ = _theirs(demo)
    moved = [r for r in rows if r.due_on == date.fromisoformat(new_date)]
    slots = {(r.activity_id, r.assignee_id) for r in rows if r.scheduled_on < date.today()}
    assert len(moved) == len(slots)  # one per activity and assignee
    for r in moved:
        latest = max(
            x.scheduled_on
            for x in rows
            if (x.activity_id, x.assignee_id) == (r.activity_id, r.assignee_id)
        )
        assert r.scheduled_on == latest and not r.escalation_held
    held = [r for r in rows if r.due_on < date.today()]
    assert held and all(r.escalation_held and r.due_on == r.scheduled_on for r in held)
    code, out, err = roadmap("import", NEFTEKUMSK, "--json", "--past-due", new_date)
    assert code == 0, err
    again = json.loads(out)
    assert again["occurrences_added"] == again["occurrences_removed"] == 0
    assert sorted(_theirs(demo)[0]) == sorted(rows)


@pytest.mark.parametrize("value", ["2020-01-01", "вчера"])
def test_a_past_or_unreadable_date_is_refused_and_nothing_written(roadmap, demo, value) -> None:
    code, _, err = roadmap("import", NEFTEKUMSK, "--past-due", value)
    assert code != 0 and "--past-due" in err
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(Roadmap)).scalar_one() == 1


def test_the_web_confirmation_needs_the_warnings_acknowledged(demo, make_web_app) -> None:
    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="arrival")
    coordinator = client_as(app, "coordinator")
    data = {"document": (io.BytesIO(SEED_FILES["000"].read_bytes()), "000.txt")}
    page = coordinator.post("/roadmaps/preview", data=data, content_type="multipart/form-data")
    assert 'data-code="other_territory"' in page.text and 'data-past-due="170"' in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    refused = coordinator.post("/roadmaps/confirm", data={"token": token})
    assert refused.status_code == 422 and "Отметьте, что вы прочитали" in refused.text
    no_date = coordinator.post(
        "/roadmaps/confirm", data={"token": token, "acknowledged": "1", "past_due": "move"}
    )
    assert no_date.status_code == 422 and "Укажите новую дату" in no_date.text
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(ImportJob)).scalar_one() == 0
    page = import_and_wait(coordinator, token, "000.txt", past_due="keep")
    assert 'data-status="done"' in page
    rows, _ = _theirs(demo)
    assert not any(r.escalation_held for r in rows)


def test_the_title_names_the_territory_or_not() -> None:
    ershichi = "адресной помощи … муниципального образования – Ершичский район Смоленской области"
    assert territory_warnings(ershichi, "Ершичский район", "Смоленская область") == []
    other = territory_warnings(ershichi, "Рославльский район", "Смоленская область")
    assert [w.code for w in other] == ["other_territory"]
    region = territory_warnings(ershichi, "Ершичский район", "Ставропольский край")
    assert [w.code for w in region] == ["other_territory"]
    neutral = territory_warnings("План мероприятий на 2024 год", "Ершичский район", None)
    assert neutral == []
