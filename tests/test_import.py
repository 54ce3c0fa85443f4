"""`roadmap import` and `roadmap export` end to end, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from engine.db import unit_of_work
from engine.models import Activity, Occurrence, Roadmap, TransitionLog
from tests.builders import SEED_FILES, build_docx, build_xlsx
from tests.test_import_structure import EXPECTED_COUNTS


@pytest.fixture
def roadmap(roadmap):
    """The shared runner, against a database holding the demo."""
    assert roadmap("demo", "--today", "2024-01-10")[0] == 0
    return roadmap


def _counts(db) -> dict[str, int]:
    with unit_of_work(db, readonly=True) as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def _seed_file(seed: str, fmt: str, tmp_path: Path) -> Path:
    if fmt == "docx":
        return build_docx(seed, tmp_path / f"seed{seed}.docx")
    if fmt == "xlsx":
        return build_xlsx(seed, tmp_path / f"seed{seed}.xlsx")
    return SEED_FILES[seed]


@pytest.mark.parametrize("fmt", ["text", "docx", "xlsx"])
@pytest.mark.parametrize("seed", ["000", "001", "003"])
def test_each_seed_imports_with_every_activity(roadmap, db, seed, fmt, tmp_path) -> None:
    code, out, err = roadmap("import", _seed_file(seed, fmt, tmp_path), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["created"] is True
    with unit_of_work(db, readonly=True) as session:
        activities = session.execute(
            select(func.count()).where(Activity.roadmap_id == result["roadmap_id"])
        ).scalar_one()
        occurrences = session.execute(
            select(func.count())
            .select_from(Occurrence)
            .join(Activity)
            .where(Activity.roadmap_id == result["roadmap_id"])
        ).scalar_one()
    assert activities == EXPECTED_COUNTS[seed] == result["activities"]
    assert occurrences == result["occurrences_added"] > activities


def test_occurrences_follow_schedules_and_responsibles(roadmap, db) -> None:
    code, out, _ = roadmap("import", SEED_FILES["003"], "--json")
    roadmap_id = json.loads(out)["roadmap_id"]
    with unit_of_work(db, readonly=True) as session:

        def per(number: str, part: str) -> list[tuple]:
            return session.execute(
                select(Occurrence.assignee_id, Occurrence.due_on, Occurrence.scheduled)
                .join(Activity)
                .where(
                    Activity.roadmap_id == roadmap_id,
                    Activity.number == number,
                    Activity.part == part,
                )
                .order_by(Occurrence.assignee_id, Occurrence.due_on)
            ).all()

        monthly_by_schools = per("3.5", "Приложение №2")  # ежемесячно, ОО
        assert len(monthly_by_schools) == 5 * 12
        assert {r.assignee_id for r in monthly_by_schools}.__len__() == 5
        department = per("1.2", "Приложение №2")  # ежеквартально, Отдел по образованию
        assert len({r.assignee_id for r in department}) == 1 and len(department) == 4
        # no deadline and no responsible: one undated occurrence, for the coordinator to date
        undated = per("3.3", "Приложение №2")
        assert [(r.assignee_id, r.due_on, r.scheduled) for r in undated] == [
            (department[0].assignee_id, None, False)
        ]


def test_dry_run_json_contract_and_writes_nothing(roadmap, db) -> None:
    before = _counts(db)
    code, out, err = roadmap("import", SEED_FILES["003"], "--dry-run", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert _counts(db) == before
    assert set(data) == {
        "title",
        "order",
        "period",
        "activities",
        "indicators",
        "warnings",
        "summary",
    }
    assert set(data["summary"]) == {"occurrences", "past_due_on_arrival", "assignees", "unresolved"}
    assert data["summary"]["occurrences"] >= data["summary"]["past_due_on_arrival"] > 0
    assert data["order"] == {"number": "159", "date": "2023-10-30"}
    assert data["period"] == {"start": "2023-09-01", "end": "2024-08-31"}
    assert len(data["activities"]) == 34
    for activity in data["activities"]:
        assert set(activity) == {
            "part",
            "section",
            "number",
            "title",
            "level",
            "deadline",
            "responsible",
            "result",
            "report_form",
        }
        assert set(activity["deadline"]) == {"text", "kind", "start", "due"}
        assert isinstance(activity["responsible"], list)
    monthly = next(a for a in data["activities"] if a["deadline"]["text"] == "ежемесячно")
    assert monthly["deadline"]["kind"] == "recurring" and len(monthly["deadline"]["due"]) == 12
    assert {
        "row": 97,
        "activity": "2.3",
        "message": "due date 2023-07-31 lies outside the roadmap period",
    } in data["warnings"]
    code, out, _ = roadmap("import", SEED_FILES["003"], "--dry-run")
    assert "recurring   8" in out and "row 74, activity 3.6: no deadline given" in out


def test_period_option_overrides_the_document(roadmap) -> None:
    code, out, _ = roadmap(
        "import", SEED_FILES["001"], "--dry-run", "--json", "--period", "2020-09-01..2021-08-31"
    )
    data = json.loads(out)
    assert data["period"] == {"start": "2020-09-01", "end": "2021-08-31"}
    first = data["activities"][0]
    assert first["deadline"]["due"] == ["2021-05-31"]  # "до 31 мая" now falls in 2021
    assert roadmap("import", SEED_FILES["001"], "--period", "2021-01-01")[0] == 2


def test_reimport_changes_one_activity_and_keeps_work(roadmap, db, tmp_path) -> None:
    original = SEED_FILES["003"].read_text(encoding="utf-8")
    source = tmp_path / "003.txt"
    source.write_text(original, encoding="utf-8")
    code, out, _ = roadmap("import", source, "--json")
    roadmap_id = json.loads(out)["roadmap_id"]
    # school1 starts and reports two occurrences of 3.5 (ежемесячно) in Приложение №2
    with unit_of_work(db, readonly=True) as session:
        worked = (
            session.execute(
                select(Occurrence.id)
                .join(Activity)
                .where(
                    Activity.roadmap_id == roadmap_id,
                    Activity.number == "3.5",
                    Activity.part == "Приложение №2",
                )
                .order_by(Occurrence.assignee_id, Occurrence.due_on)
                .limit(2)
            )
            .scalars()
            .all()
        )
    for occ in worked:
        assert roadmap("transition", occ, "start", "--as", "school1")[0] == 0
    assert roadmap("transition", worked[0], "report", "--as", "school1", "--report", "ok")[0] == 0
    before = _counts(db)
    # 3.5 becomes quarterly; nothing else changes
    edited = original.replace("обучающихся\tежемесячно\tОО", "обучающихся\tежеквартально\tОО")
    assert edited != original
    source.write_text(edited, encoding="utf-8")
    code, out, err = roadmap("import", source, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["created"] is False and report["roadmap_id"] == roadmap_id
    assert report["added"] == [] and report["missing"] == []
    assert [c.split(" ")[:2] for c in report["changed"]] == [["Приложение", "№2:"]]
    assert "3.5 Консультирование родителей" in report["changed"][0]
    with unit_of_work(db, readonly=True) as session:
        states = dict(
            session.execute(
                select(Occurrence.id, Occurrence.state).where(Occurrence.id.in_(worked))
            ).all()
        )
        assert states == {worked[0]: "reported", worked[1]: "in_progress"}
        assert (
            session.execute(select(func.count()).select_from(TransitionLog)).scalar_one()
            == (before["transition_log"])
        )
        dates = session.execute(
            select(Occurrence.assignee_id, Occurrence.due_on)
            .join(Activity)
            .where(
                Activity.roadmap_id == roadmap_id,
                Activity.number == "3.5",
                Activity.part == "Приложение №2",
            )
        ).all()
    assert len(dates) == len(set(dates))  # no duplicates
    # 5 schools × 4 quarter ends; of the two worked months, 30 September is a quarter end
    # and stays as it is, 31 October is kept with its history beside the new schedule
    assert len(dates) == 5 * 4 + 1
    assert report["occurrences_kept"] == 1
    assert report["occurrences_removed"] == 5 * 12 - 5 * 4 - 1  # only never-started months
    # importing the same file again changes nothing at all
    after = _counts(db)
    code, out, _ = roadmap("import", source, "--json")
    again = json.loads(out)
    assert (again["changed"], again["occurrences_added"], again["occurrences_removed"]) == (
        [],
        0,
        0,
    )
    assert _counts(db) == after


BAD_INPUTS = {
    "not_a_roadmap.txt": (
        "Протокол совещания.\nПрисутствовали: 5 человек.\n".encode(),
        "no roadmap table found",
    ),
    "empty.md": (b"   \n", "the file is empty"),
    "corrupt.docx": (b"PK\x03\x04 this is not really a zip", "not a readable DOCX"),
    "garbage.docx": (b"\x00\x01\x02 not even a zip", "not a readable DOCX"),
    "corrupt.xlsx": (b"PK\x03\x04\x00\x00", "not a readable XLSX"),
    "binary.txt": (bytes(range(256)) * 4, "unknown text encoding"),
    "no_deadline.tsv": (
        "№\tМероприятие\tОтветственный\n1\tСовещание\tОО\n".encode(),
        "row 1: the table has no deadline column",
    ),
    "roadmap.pdf": (b"%PDF-1.4", "not a readable PDF file"),
    "fake.pdf": (b"PK\x03\x04 a zip called PDF", "not a PDF file"),
    "roadmap.odt": (b"PK\x03\x04", "unsupported file type"),
    "broken.yaml": (b"format: [unclosed", "not valid YAML"),
    "other.yaml": (b"title: x\n", "not a roadmap file"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_writes_nothing(roadmap, db, tmp_path, name) -> None:
    data, message = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(data)
    before = _counts(db)
    code, out, err = roadmap("import", path)
    assert code == 1
    assert err.startswith(f"error: {name}") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _counts(db) == before


def test_missing_file_and_unknown_municipality(roadmap, db, tmp_path) -> None:
    before = _counts(db)
    code, _, err = roadmap("import", tmp_path / "nope.docx")
    assert code == 1 and "no such file" in err
    code, _, err = roadmap("import", SEED_FILES["001"], "--municipality", "Нигде")
    assert code == 4 and "no municipality matches 'Нигде'" in err
    assert _counts(db) == before


def test_export_yaml_round_trips(roadmap, db, tmp_path) -> None:
    code, out, _ = roadmap("import", SEED_FILES["000"], "--json")
    first_id = json.loads(out)["roadmap_id"]
    exported = tmp_path / "roadmap.yaml"
    assert roadmap("export", first_id, "--format", "yaml", "-o", exported)[0] == 0
    text = exported.read_text(encoding="utf-8")
    assert "format: roadmap-engine/1" in text and "Ремонт помещений" in text
    # importing the export onto the same roadmap changes nothing
    code, out, _ = roadmap("import", exported, "--json")
    report = json.loads(out)
    assert (report["roadmap_id"], report["changed"], report["added"], report["missing"]) == (
        first_id,
        [],
        [],
        [],
    )
    # and a copy under another title is the same roadmap, activity for activity
    exported.write_text(
        text.replace("title: Дорожная карта", "title: Копия. Дорожная карта", 1), encoding="utf-8"
    )
    code, out, _ = roadmap("import", exported, "--json")
    copy_id = json.loads(out)["roadmap_id"]
    assert copy_id != first_id
    code, first, _ = roadmap("export", first_id, "--format", "json")
    code, copy, _ = roadmap("export", copy_id, "--format", "json")
    first_data, copy_data = json.loads(first), json.loads(copy)
    assert copy_data["title"] == "Копия. " + first_data["title"]
    assert copy_data["activities"] == first_data["activities"]


def test_export_xlsx_imports_back_the_same(roadmap, db, tmp_path) -> None:
    code, out, _ = roadmap("import", SEED_FILES["003"], "--json")
    roadmap_id = json.loads(out)["roadmap_id"]
    sheet = tmp_path / "roadmap.xlsx"
    assert roadmap("export", roadmap_id, "--format", "xlsx", "-o", sheet)[0] == 0
    code, from_sheet, _ = roadmap("import", sheet, "--dry-run", "--json")
    code, from_text, _ = roadmap("import", SEED_FILES["003"], "--dry-run", "--json")
    sheet_data, text_data = json.loads(from_sheet), json.loads(from_text)
    for key in ("title", "order", "period", "activities"):
        assert sheet_data[key] == text_data[key], key
    assert roadmap("export", roadmap_id, "--format", "xlsx")[0] == 2  # needs a file


def test_csv_import(roadmap, tmp_path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        "План мероприятий (дорожная карта) на 2024 год\n"
        "№;Мероприятие;Срок исполнения;Ответственный\n"
        "1;Самодиагностика школы;до 1 марта;Руководители ОО\n"
        '2;"Совещание ""Итоги""";ежеквартально;Муниципальный координатор\n',
        encoding="cp1251",
    )
    code, out, _ = roadmap("import", path, "--dry-run", "--json")
    data = json.loads(out)
    assert data["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert [(a["number"], a["title"], a["deadline"]["kind"]) for a in data["activities"]] == [
        ("1", "Самодиагностика школы", "date"),
        ("2", 'Совещание "Итоги"', "recurring"),
    ]


def test_roadmaps_are_listed_after_import(roadmap, db) -> None:
    roadmap("import", SEED_FILES["001"])
    with unit_of_work(db, readonly=True) as session:
        titles = session.execute(select(Roadmap.title).order_by(Roadmap.id)).scalars().all()
    assert len(titles) == 2 and titles[1].endswith("на 2020 год")


def test_an_import_that_fails_after_writing_began_leaves_nothing(world, registry, monkeypatch):
    """One transaction: a failure on the third activity's occurrences undoes the roadmap, its
    sections, the two activities before and their occurrences."""
    import engine.importing.apply as apply
    from engine.db import unit_of_work as uow
    from engine.importing.document import read_roadmap
    from engine.models import Activity, Occurrence, Organization, Roadmap, Section

    def counts() -> tuple[int, ...]:
        with uow(world.engine, readonly=True) as session:
            return tuple(
                session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (Roadmap, Section, Activity, Occurrence)
            )

    before = counts()
    real, calls = apply.add_occurrences, []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "add_occurrences", failing)
    draft = read_roadmap(SEED_FILES["003"])
    with pytest.raises(RuntimeError, match="disk is full"):
        with uow(world.engine) as session:
            municipality = session.get(Organization, world.municipality)
            apply.import_roadmap(session, registry, draft, municipality)
    assert len(calls) == 3  # writing had begun: two activities' occurrences were inserted
    assert counts() == before


def _office_file(path: Path, entries: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch) -> None:
    """The archive's own directory says how big it unpacks; nothing is inflated first."""
    import engine.importing.sources as sources
    from engine.importing.document import read_roadmap
    from engine.importing.sources import DocumentError

    monkeypatch.setattr(sources, "MAX_UNPACKED_BYTES", 4 * 2**20)
    bomb = _office_file(
        tmp_path / "bomb.docx",
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (8 * 2**20)},
    )
    assert bomb.stat().st_size < 100_000
    with pytest.raises(DocumentError, match=r"bomb.docx: unpacks to 8 MB; at most 4 MB"):
        read_roadmap(bomb)
    many = _office_file(tmp_path / "many.xlsx", {f"xl/{i}.xml": b"x" for i in range(2_001)})
    with pytest.raises(DocumentError, match=r"many.xlsx: the archive holds 2001 files"):
        read_roadmap(many)


def test_huge_documents_are_refused_with_their_limit(tmp_path) -> None:
    from engine.importing.document import read_roadmap
    from engine.importing.sources import MAX_ROWS, DocumentError

    rows = tmp_path / "rows.csv"
    rows.write_text(
        "№;Мероприятие;Сроки\n" + "".join(f"{i};Дело {i};май\n" for i in range(MAX_ROWS + 1)),
        encoding="utf-8",
    )
    with pytest.raises(DocumentError, match=rf"rows.csv: more than {MAX_ROWS} rows"):
        read_roadmap(rows)
    tabbed = tmp_path / "rows.txt"
    tabbed.write_text(
        "№\tМероприятие\tСроки\n" + "".join(f"{i}\tДело\tмай\n" for i in range(MAX_ROWS + 1)),
        encoding="utf-8",
    )
    with pytest.raises(DocumentError, match=rf"rows.txt: more than {MAX_ROWS} rows"):
        read_roadmap(tabbed)
    wide = tmp_path / "wide.txt"
    wide.write_text("\t".join(["№", "Мероприятие"] + ["x"] * 80) + "\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"wide.txt, row 1: 82 cells; at most 60"):
        read_roadmap(wide)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (10 * 2**20 + 1))
    with pytest.raises(DocumentError, match=r"big.yaml: a roadmap file may be at most 10 MB"):
        read_roadmap(big)


def test_openpyxl_reads_xml_through_defusedxml() -> None:
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True
