"""Target indicators: read from the roadmap's list, table and planned results, written on
import and re-import, carried by the canonical format, and corrected after import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.deadlines.parser import Period
from engine.errors import PermissionDeniedError, ValidationError
from engine.importing.canonical import dump_yaml, export_dict, read_canonical
from engine.importing.indicators import read_target
from engine.importing.sources import DocumentError, read_text
from engine.importing.structure import recover
from engine.models import ActivityChange, Indicator, Organization
from engine.usecases.indicator_edits import add_indicator, edit_indicator, remove_indicator
from engine.usecases.roadmap_edits import edit_activity, remove_activity
from tests.builders import SEED_FILES, build_docx, build_xlsx
from tests.test_roadmap_edits import app  # noqa: F401 (a fixture)

PERIOD = Period(date(2023, 1, 1), date(2025, 12, 31))
YEAR_ENDS = ["2023-12-31", "2024-12-31", "2025-12-31"]

#: Seed 000's five «Целевые показатели»: number, target, unit, direction, due.
SEED_000 = [
    ("1", 80, "%", "at_least", ["2025-12-31"]),
    ("2", 35, "%", "at_least", YEAR_ENDS),
    ("3", 55, "%", "at_least", ["2025-12-31"]),
    ("4", 5, "%", "increase_by", ["2023-10-01"]),
    ("5", 100, "%", "exactly", ["2025-12-31"]),
]
#: Seed 000's planned results that state a number: activity, value, scope.
SEED_000_RESULTS = {
    "1.1": (100, "municipality"),
    "1.3": (100, "municipality"),
    "2.3": (100, "municipality"),
    "3.2": (60, "municipality"),
    "3.3": (100, "municipality"),
    "3.5": (100, "municipality"),
    "3.8": (100, "municipality"),
    "3.9": (100, "municipality"),
    "4.1": (100, "municipality"),
    "4.2": (100, "school"),
    "4.3": (100, "municipality"),
    "4.6": (100, "municipality"),
    "4.8": (100, "municipality"),
}


def _dry_run(roadmap, path: Path) -> dict:  # type: ignore[no-untyped-def]
    code, out, err = roadmap("import", path, "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def demo_roadmap(roadmap):  # type: ignore[no-untyped-def]
    assert roadmap("demo", "--today", "2024-01-10")[0] == 0
    return roadmap


@pytest.mark.parametrize("fmt", ["text", "docx", "xlsx"])
def test_seed_000_yields_its_five_target_indicators(demo_roadmap, fmt, tmp_path) -> None:
    path = {
        "text": lambda: SEED_FILES["000"],
        "docx": lambda: build_docx("000", tmp_path / "seed.docx"),
        "xlsx": lambda: build_xlsx("000", tmp_path / "seed.xlsx"),
    }[fmt]()
    indicators = _dry_run(demo_roadmap, path)["indicators"]
    listed = [i for i in indicators if i["activity"] is None]
    assert [
        (
            i["number"],
            i["target"]["value"],
            i["target"]["unit"],
            i["target"]["direction"],
            i["due"],
        )
        for i in listed
    ] == SEED_000
    assert all(i["scope"] == "municipality" for i in listed)
    assert listed[0]["text"].startswith("1. Увеличение доли образовательных организаций")
    assert listed[0]["title"].startswith("Увеличение доли")
    results = {
        i["activity"]: (i["target"]["value"], i["scope"]) for i in indicators if i["activity"]
    }
    assert results == SEED_000_RESULTS


def test_the_dry_run_of_seed_000_writes_no_indicator(demo_roadmap, db) -> None:
    from tests.test_import import _counts

    before = _counts(db)
    assert len(_dry_run(demo_roadmap, SEED_FILES["000"])["indicators"]) == 18
    assert _counts(db) == before
    code, out, err = demo_roadmap("import", SEED_FILES["000"], "--json")
    assert code == 0, err
    assert _counts(db)["indicator"] == before["indicator"] + 18


def test_the_plain_dry_run_counts_the_indicators(demo_roadmap) -> None:
    code, out, err = demo_roadmap("import", SEED_FILES["000"], "--dry-run")
    assert code == 0, err
    assert "indicators: 18 (13 from planned results)" in out


def test_a_second_target_in_one_indicator_is_a_warning_not_a_guess(demo_roadmap) -> None:
    result = _dry_run(demo_roadmap, SEED_FILES["000"])
    warned = [w for w in result["warnings"] if w["message"].startswith("indicator 3:")]
    assert len(warned) == 1 and "25 %" in warned[0]["message"]


@pytest.mark.parametrize("seed", ["001", "003"])
def test_seeds_without_numbers_in_their_results_have_no_indicators(demo_roadmap, seed) -> None:
    """Seed 003's «100% школьных команд» is a target audience (description), not a result."""
    assert _dry_run(demo_roadmap, SEED_FILES[seed])["indicators"] == []


@pytest.mark.parametrize(
    ("text", "value", "unit", "direction", "baseline"),
    [
        ("Увеличение доли ОО до 80%", 80, "%", "at_least", None),
        ("Снижение доли обучающихся с «2» до 5 %", 5, "%", "at_most", None),
        ("не менее 90 % педагогов", 90, "%", "at_least", None),
        ("не более 10% обучающихся", 10, "%", "at_most", None),
        ("Повышение среднего балла ОГЭ на 3 балла", 3, "points", "increase_by", None),
        ("Сокращение числа ШНОР на 2 школы", 2, "schools", "decrease_by", None),
        ("Доля педагогов с первой категорией с 40% до 60%", 60, "%", "at_least", 40),
        ("Выполнение плана-заказа на 100%", 100, "%", "exactly", None),
        ("Обучено не менее 25 человек", 25, "people", "at_least", None),
    ],
)
def test_a_target_is_read_with_value_unit_direction_and_baseline(
    text, value, unit, direction, baseline
) -> None:
    reading = read_target(text)
    assert reading.target is not None
    assert (reading.target.value, reading.target.unit, str(reading.target.direction)) == (
        value,
        unit,
        direction,
    )
    assert reading.baseline == baseline


@pytest.mark.parametrize(
    "text",
    [
        "Анализ результатов ВПР-2023 в МКОУ СОШ №13 к 01.10.2023",
        "Приказ от 12.05.2023 № 45",
        "Участие в вебинарах 2023-2024 гг.",
        "Сформирована база данных кадровых ресурсов",
        "Проведено совещание до 15 сентября",
        "Отчёт ежемесячно, до 5 числа",
        "Обучение в 2 этапа, не реже 1 раза в квартал",
        "Заседание до 3 раз в год",
    ],
)
def test_dates_years_and_school_numbers_are_not_targets(text) -> None:
    assert read_target(text).target is None


DOCUMENT_WITH_TABLE = """\
ПРИКАЗ
Дорожная карта на 2023-2025 годы

Целевые показатели

| № | Наименование показателя | Базовое значение | Целевое значение | Срок |
| 1 | Доля ОО с обновлённой МТБ | 40 % | 80 % | к 01.09.2025 |
| 2 | Число педагогов, прошедших курсы | 10 | 25 человек | ежегодно |
| 3 | Развитие школьных библиотек | | | |

| № | Мероприятие | Срок | Ответственный | Планируемый результат |
| 1.1 | Анализ ВПР | ежеквартально | Руководители ОО | не менее 90 % педагогов |
| 1.2 | Совещание | до 1 октября 2023 | Отдел образования | Проведено совещание |
"""


def test_a_table_of_indicators_and_planned_results_are_read() -> None:
    draft = recover(read_text(DOCUMENT_WITH_TABLE), "doc.txt", PERIOD)
    by_number = {i.number: i for i in draft.indicators}
    first, second, third = by_number["1"], by_number["2"], by_number["3"]
    assert first.title == "Доля ОО с обновлённой МТБ"
    assert (first.target.value, first.target.unit, str(first.target.direction)) == (
        80,
        "%",
        "at_least",
    )
    assert first.baseline == 40 and first.due == [date(2025, 9, 1)]
    assert (second.target.value, second.target.unit) == (25, "people")
    assert [d.isoformat() for d in second.due] == YEAR_ENDS and second.baseline == 10
    assert third.target is None
    assert any(w.message.startswith("indicator 3: no target value") for w in draft.warnings)
    result = by_number["1.1"]
    assert result.activity == "1.1" and str(result.scope) == "school"
    assert (result.target.value, str(result.target.direction)) == (90, "at_least")
    assert "1.2" not in by_number


DOCUMENT = """\
Дорожная карта на 2023-2025 годы

Целевые показатели
1. Увеличение доли ОО, в которых обновлена МТБ, до 80%.
2. Доля педагогов с высшей категорией не менее 30 % ежегодно.

| № | Мероприятие | Срок | Ответственный | Планируемый результат |
| 1.1 | Анализ ВПР | ежеквартально | Руководители ОО | не менее 90 % педагогов |
| 1.2 | Совещание | до 1 октября 2023 | Отдел образования | Проведено совещание |
"""


def _import(world, registry, text: str = DOCUMENT) -> int:  # type: ignore[no-untyped-def]
    from engine.importing.apply import import_roadmap

    draft = recover(read_text(text), "doc.txt", PERIOD)
    with unit_of_work(world.engine) as session:
        municipality = session.get(Organization, world.municipality)
        return import_roadmap(session, registry, draft, municipality).roadmap_id


def _rows(world, roadmap_id: int) -> list[Indicator]:  # type: ignore[no-untyped-def]
    with unit_of_work(world.engine, readonly=True) as session:
        rows = list(
            session.execute(
                select(Indicator)
                .where(Indicator.roadmap_id == roadmap_id)
                .order_by(Indicator.position)
            ).scalars()
        )
        for row in rows:
            session.expunge(row)
        return rows


def test_reimport_updates_indicators_and_keeps_the_rest(world, registry) -> None:
    roadmap_id = _import(world, registry)
    rows = _rows(world, roadmap_id)
    assert [(r.number, r.target_value, r.direction, r.scope) for r in rows] == [
        ("1", 80, "at_least", "municipality"),
        ("2", 30, "at_least", "municipality"),
        ("1.1", 90, "at_least", "school"),
    ]
    assert rows[1].due == YEAR_ENDS and rows[2].activity_id is not None
    changed = DOCUMENT.replace("не менее 30 %", "не менее 40 %").replace(
        "1. Увеличение доли ОО, в которых обновлена МТБ, до 80%.\n", ""
    )
    assert _import(world, registry, changed) == roadmap_id
    again = _rows(world, roadmap_id)
    # the one the document no longer has is kept, last: a re-import loses nothing
    assert [(r.number, r.target_value) for r in again] == [("2", 40), ("1.1", 90), ("1", 80)]
    assert [r.id for r in again] == [rows[1].id, rows[2].id, rows[0].id]


def test_the_canonical_format_carries_indicators_back_unchanged(world, registry, tmp_path) -> None:
    roadmap_id = _import(world, registry)
    with unit_of_work(world.engine, readonly=True) as session:
        exported = export_dict(session, roadmap_id)
    assert [i["number"] for i in exported["indicators"]] == ["1", "2", "1.1"]
    path = tmp_path / "roadmap.yaml"
    path.write_text(dump_yaml(exported), encoding="utf-8")
    draft = read_canonical(path)
    assert draft.indicators[2].source is draft.activities[0]
    from engine.importing.apply import import_roadmap

    with unit_of_work(world.engine) as session:
        municipality = session.get(Organization, world.other_municipality)
        copy = import_roadmap(session, registry, draft, municipality).roadmap_id
    with unit_of_work(world.engine, readonly=True) as session:
        again = export_dict(session, copy)
    assert again["indicators"] == exported["indicators"]


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        ({"title": "x", "target": {"value": "много"}}, "indicator 1"),
        ({"title": "x", "target": {"value": 5, "direction": "sideways"}}, "indicator 1"),
        ({"title": "x", "target": {"value": 5, "unit": "kg"}}, "unit must be one of"),
        ({"title": "x", "due": ["31.12.2025"]}, "indicator 1"),
        ({"title": "x", "colour": "red"}, "unknown fields ['colour']"),
        ({"title": "x", "activity": {"number": "9.9"}}, "no activity 9.9"),
        ({"target": {"value": 5}}, "needs at least a title"),
        ({"title": "x", "target": {"value": "nan"}}, "target value must lie within"),
        ({"title": "x", "baseline": 1e12}, "baseline must lie within"),
        ({"title": "т" * 5_001}, "title is 5001 characters"),
    ],
)
def test_a_bad_indicator_in_a_canonical_file_names_itself(tmp_path, indicator, message) -> None:
    data = {
        "format": "roadmap-engine/1",
        "title": "Карта",
        "period": {"start": "2024-01-01", "end": "2025-12-31"},
        "activities": [{"number": "1.1", "title": "Анализ", "deadline": "март 2024"}],
        "indicators": [indicator],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DocumentError, match="bad.json") as refused:
        read_canonical(path)
    assert message in str(refused.value)


def test_a_coordinator_corrects_an_indicator_and_the_change_is_logged(world, registry) -> None:
    roadmap_id = _import(world, registry)
    first = _rows(world, roadmap_id)[0]
    coordinator = world.actor("coord_m1")
    with unit_of_work(world.engine) as session:
        edit_indicator(
            session,
            coordinator,
            first.id,
            {"target_value": "85,5", "unit": "%", "baseline": "42", "due_text": "декабрь 2024"},
        )
    edited = _rows(world, roadmap_id)[0]
    assert (edited.target_value, edited.baseline, edited.due) == (85.5, 42, ["2024-12-31"])
    with unit_of_work(world.engine, readonly=True) as session:
        change = session.execute(
            select(ActivityChange).where(ActivityChange.roadmap_id == roadmap_id)
        ).scalar_one()
    assert change.action == "edited" and change.activity_id is None
    assert change.before == {
        "indicator": True,
        "target_value": 80,
        "baseline": None,
        "due_text": None,
    }
    assert change.after == {
        "indicator": True,
        "target_value": 85.5,
        "baseline": 42,
        "due_text": "декабрь 2024",
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"target_value": "восемьдесят"}, "not_a_number"),
        ({"target_value": "nan"}, "not_a_number"),
        ({"baseline": "1e12"}, "not_a_number"),
        ({"unit": "kg"}, "unknown_choice"),
        ({"direction": "sideways"}, "unknown_choice"),
        ({"title": " "}, "indicator_title_required"),
        ({"title": "т" * 5_001}, "text_too_long"),
        ({"due_text": "когда-нибудь"}, "due_unreadable"),
    ],
)
def test_bad_indicator_changes_are_refused_and_nothing_is_written(
    world, registry, changes, reason
) -> None:
    roadmap_id = _import(world, registry)
    before = _rows(world, roadmap_id)
    with unit_of_work(world.engine) as session, pytest.raises(ValidationError) as refused:
        edit_indicator(session, world.actor("coord_m1"), before[0].id, changes)
    assert refused.value.reason == reason
    after = _rows(world, roadmap_id)
    assert [(r.title, r.target_value, r.unit, r.due) for r in after] == [
        (r.title, r.target_value, r.unit, r.due) for r in before
    ]


@pytest.mark.parametrize("login", ["coord_m2", "school_a", "curator_a", "regional"])
def test_only_the_owners_coordinator_corrects_indicators(world, registry, login) -> None:
    roadmap_id = _import(world, registry)
    first = _rows(world, roadmap_id)[0]
    with unit_of_work(world.engine) as session, pytest.raises(PermissionDeniedError):
        edit_indicator(session, world.actor(login), first.id, {"target_value": "1"})
    with unit_of_work(world.engine) as session, pytest.raises(PermissionDeniedError):
        add_indicator(session, world.actor(login), roadmap_id, {"title": "x"})
    with unit_of_work(world.engine) as session, pytest.raises(PermissionDeniedError):
        remove_indicator(session, world.actor(login), first.id)
    assert len(_rows(world, roadmap_id)) == 3


def test_indicators_are_added_and_removed(world, registry) -> None:
    roadmap_id = _import(world, registry)
    coordinator = world.actor("coord_m1")
    with unit_of_work(world.engine) as session:
        added = add_indicator(
            session,
            coordinator,
            roadmap_id,
            {
                "number": "6",
                "title": "Доля выпускников, сдавших ЕГЭ",
                "target_value": "95",
                "unit": "%",
                "direction": "at_least",
                "scope": "school",
            },
        ).id
    rows = _rows(world, roadmap_id)
    assert rows[-1].id == added and rows[-1].due == ["2025-12-31"] and rows[-1].scope == "school"
    with unit_of_work(world.engine) as session:
        remove_indicator(session, coordinator, rows[0].id)
    assert [r.number for r in _rows(world, roadmap_id)] == ["2", "1.1", "6"]


def test_an_edited_planned_result_is_read_again_as_its_indicator(app, world, registry) -> None:  # noqa: F811
    roadmap_id = _import(world, registry)
    coordinator = world.actor("coord_m1")
    by_activity = {r.number: r.activity_id for r in _rows(world, roadmap_id) if r.activity_id}
    activity = by_activity["1.1"]
    with unit_of_work(world.engine) as session:
        edit_activity(app, session, coordinator, activity, {"planned_result": "не менее 95 %"})
    assert [r.target_value for r in _rows(world, roadmap_id) if r.activity_id] == [95]
    with unit_of_work(world.engine) as session:
        edit_activity(app, session, coordinator, activity, {"planned_result": "Проведён анализ"})
    assert [r for r in _rows(world, roadmap_id) if r.activity_id] == []
    with unit_of_work(world.engine) as session:
        edit_activity(app, session, coordinator, activity, {"planned_result": "не менее 70 %"})
        remove_activity(app, session, coordinator, activity)
    assert [r.number for r in _rows(world, roadmap_id)] == ["1", "2"]


@pytest.fixture
def web_app(demo, make_web_app):  # type: ignore[no-untyped-def]
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="indicators")


@pytest.mark.sqlite_only
def test_the_web_previews_lists_and_corrects_indicators(web_app, demo) -> None:
    import io
    import re

    from tests.webclient import client_as, import_and_wait

    coordinator = client_as(web_app, "coordinator")
    data = {"document": (io.BytesIO(SEED_FILES["000"].read_bytes()), "карта.txt")}
    page = coordinator.post("/roadmaps/preview", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    assert 'id="preview-indicators"' in page.text and "не менее 35 %" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    assert 'data-status="done"' in import_and_wait(coordinator, token, "карта.txt")
    with unit_of_work(demo, readonly=True) as session:
        first = session.execute(
            select(Indicator).where(Indicator.number == "1", Indicator.activity_id.is_(None))
        ).scalar_one()
    roadmap_page = coordinator.get(f"/roadmaps/{first.roadmap_id}")
    assert "Целевые показатели (18)" in roadmap_page.text
    assert "не менее 80 %" in roadmap_page.text and "рост на 5 %" in roadmap_page.text
    assert coordinator.get(f"/indicators/{first.id}/edit").status_code == 200

    refused = coordinator.post(
        f"/indicators/{first.id}/edit", data={"title": first.title, "target_value": "много"}
    )
    assert refused.status_code == 303 and "/edit" in refused.headers["Location"]
    assert "Значение должно быть числом" in coordinator.get(refused.headers["Location"]).text
    saved = coordinator.post(
        f"/indicators/{first.id}/edit",
        data={"title": first.title, "target_value": "85", "direction": "at_least", "unit": "%"},
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith("#indicators")
    page = coordinator.get(f"/roadmaps/{first.roadmap_id}").text
    assert "не менее 85 %" in page and "показатель 1 Увеличение доли" in page  # the change log

    added = coordinator.post(
        f"/roadmaps/{first.roadmap_id}/indicators",
        data={"title": "Доля выпускников с аттестатом", "target_value": "99", "unit": "%"},
    )
    assert added.status_code == 303
    assert "Доля выпускников с аттестатом" in coordinator.get(f"/roadmaps/{first.roadmap_id}").text

    for login in ("curator1", "school1", "regional"):
        other = client_as(web_app, login)
        assert other.get(f"/indicators/{first.id}/edit").status_code in (403, 404)
        denied = other.post(f"/indicators/{first.id}/remove", data={"sure": "1"})
        assert denied.status_code in (303, 403, 404)
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(Indicator, first.id).target_value == 85
    assert coordinator.get("/indicators/99999999999999999999/edit").status_code == 404


def test_the_spreadsheet_export_reads_back_with_its_indicators(world, registry, tmp_path) -> None:
    from engine.importing.canonical import export_xlsx
    from engine.importing.document import read_roadmap

    roadmap_id = _import(world, registry)
    first = _rows(world, roadmap_id)[0]
    with unit_of_work(world.engine) as session:
        edit_indicator(
            session, world.actor("coord_m1"), first.id, {"baseline": "40,5", "due_text": ""}
        )
        exported = export_dict(session, roadmap_id)
    path = tmp_path / "roadmap.xlsx"
    path.write_bytes(export_xlsx(exported))
    draft = read_roadmap(path)
    assert [a.number for a in draft.activities] == ["1.1", "1.2"]  # no indicator as activity

    def shown(items) -> list:  # type: ignore[no-untyped-def]
        return [(i["number"], i["title"], i["target"], i["baseline"], i["due"]) for i in items]

    again = [i.to_dict() for i in draft.indicators]
    for item in again:
        if item["target"]:
            item["target"]["value"] = float(item["target"]["value"])
    assert shown(again) == shown(exported["indicators"])
