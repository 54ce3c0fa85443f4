"""The directory import: columns by meaning, ИНН checked, re-import in place, bad input refused
with the file, row and column, and nothing written."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.directory.schools import valid_inn
from engine.models import AdminLog, Organization, OrganizationKind

HEADER = ["№", "Субъект", "Муниципальное образование", "Полное наименование ОО",
          "Краткое наименование", "ИНН", "E-mail", "Статус в программе"]  # fmt: skip
MUNICIPALITIES = ["Ершичский район", "Рославльский район", "город Смоленск"]


def inn(n: int) -> str:
    """A valid 10-digit ИНН made from `n`."""
    head = f"67{n:07d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return head + str(sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11 % 10)


def directory_rows(count: int = 30) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        municipality = MUNICIPALITIES[(n - 1) % 3]
        rows.append([
            str(n), "Смоленская область", municipality, f"МБОУ «Средняя школа № {n}»",
            f"СШ № {n}", inn(n), f"school{n}@example.org", "ШНОР 2024" if n % 2 else "500+ (2023)",
        ])  # fmt: skip
    return rows


def write_xlsx(path, rows, header=HEADER):  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Реестр образовательных организаций — участников программы"])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path, rows, header=HEADER, encoding="utf-8", delimiter=";"):  # type: ignore[no-untyped-def]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _snapshot(db) -> tuple:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        orgs = session.execute(
            select(
                Organization.id, Organization.name, Organization.email, Organization.inn
            ).order_by(Organization.id)
        ).all()
        logs = session.execute(select(func.count()).select_from(AdminLog)).scalar_one()
    return tuple(orgs), logs


def _schools(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        return session.execute(
            select(func.count()).where(Organization.kind == OrganizationKind.SCHOOL)
        ).scalar_one()


def test_inn_check_digit() -> None:
    assert valid_inn("7707083893") and valid_inn(inn(5))
    assert (
        not valid_inn("7707083894") and not valid_inn("770708389") and not valid_inn("77070838xx")
    )


def test_a_region_moves_in_then_reimports_one_change(roadmap, db, tmp_path) -> None:
    path = write_xlsx(tmp_path / "реестр.xlsx", directory_rows())
    code, out, _ = roadmap("directory", "import", str(path), "--dry-run", "--json")
    assert code == 0, out
    dry = json.loads(out)
    assert len(dry["created"]) == 30 and dry["municipalities_created"] == MUNICIPALITIES
    assert dry["regions_created"] == ["Смоленская область"] and _schools(db) == 0

    code, out, _ = roadmap("directory", "import", str(path), "--json")
    assert code == 0 and _schools(db) == 30
    with unit_of_work(db, readonly=True) as session:
        school = session.execute(
            select(Organization).where(Organization.inn == inn(3))
        ).scalar_one()
        municipality = session.get(Organization, school.parent_id)
        assert (school.short_name, school.programme, school.programme_year) == (
            "СШ № 3", "low_results", 2024,
        )  # fmt: skip
        assert municipality.name == "город Смоленск"

    before = _snapshot(db)
    code, out, _ = roadmap("directory", "import", str(path), "--json")
    assert json.loads(out)["unchanged"] == 30 and _snapshot(db) == before  # nothing, not even a log

    rows = directory_rows()
    rows[6][6] = "new7@example.org"
    rows.pop()  # school 30 left the file: reported, kept
    write_xlsx(path, rows)
    code, out, _ = roadmap("directory", "import", str(path), "--json")
    result = json.loads(out)
    assert [c["fields"] for c in result["changed"]] == [["email"]]
    assert [m["name"] for m in result["missing"]] == ["МБОУ «Средняя школа № 30»"]
    after = _snapshot(db)
    assert after[1] == before[1] + 1 and _schools(db) == 30
    changed = [a for a, b in zip(after[0], before[0], strict=True) if a != b]
    assert [c.email for c in changed] == ["new7@example.org"]
    with unit_of_work(db, readonly=True) as session:
        log = session.execute(select(AdminLog).order_by(AdminLog.id.desc())).scalars().first()
    assert (log.action, log.before, log.after) == (
        "changed", {"email": "school7@example.org"}, {"email": "new7@example.org"},
    )  # fmt: skip


def test_a_cp1251_csv_with_semicolons_and_short_headers(roadmap, db, tmp_path) -> None:
    header = ["Регион", "МО", "Образовательная организация", "ИНН"]
    rows = [["Смоленская область", "Ершичский район", "МБОУ Ершичская СШ", inn(1)]]
    path = write_csv(tmp_path / "реестр.csv", rows, header, encoding="cp1251")
    code, out, err = roadmap("directory", "import", str(path))
    assert code == 0, err
    assert _schools(db) == 1


def _bad(rows=None, header=HEADER):  # type: ignore[no-untyped-def]
    return rows if rows is not None else directory_rows(3)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h, r: (["№", "Регион", "МО", "ИНН"], [x[:2] + [x[2], x[5]] for x in r]),
         "no header row with a name column"),
        (lambda h, r: (h, [r[0], r[1][:5] + ["6700000001"] + r[1][6:], r[2]]),
         "row 3, column «ИНН»: '6700000001' is not a valid 10-digit ИНН"),
        (lambda h, r: (h, [r[0], r[1][:5] + [r[0][5]] + r[1][6:], r[2]]),
         f"row 3, column «ИНН»: ИНН {inn(1)} is also in row 2"),
        (lambda h, r: (h, [r[0], r[1][:2] + [""] + r[1][3:], r[2]]),
         "row 3, column «Муниципальное образование»: the school has no municipality"),
        (lambda h, r: (h, [r[0], r[1][:7] + ["лицей"]]),
         "row 3, column «Статус в программе»: 'лицей' is none of"),
    ],
)  # fmt: skip
def test_bad_input_names_file_row_and_column_and_writes_nothing(
    roadmap, db, tmp_path, change, expected
) -> None:
    header, rows = change(HEADER, directory_rows(3))
    path = write_csv(tmp_path / "bad.csv", rows, header)
    before = _snapshot(db)
    code, _, err = roadmap("directory", "import", str(path))
    assert code != 0 and "bad.csv" in err and expected in err, err
    assert "Traceback" not in err and _snapshot(db) == before


def test_an_unknown_encoding_is_refused(roadmap, db, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(bytes(range(128, 256)) * 20)
    code, _, err = roadmap("directory", "import", str(path))
    assert code != 0 and "bad.csv: unknown text encoding" in err


def test_a_failure_after_writing_began_leaves_nothing(roadmap, db, tmp_path, monkeypatch) -> None:
    from engine.directory import schools

    path = write_xlsx(tmp_path / "реестр.xlsx", directory_rows())

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    real = schools.log_change
    calls = []

    def failing_late(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) > 10:  # regions, municipalities and some schools are in by now
            broken()
        return real(*args, **kwargs)

    monkeypatch.setattr(schools, "log_change", failing_late)
    before = _snapshot(db)
    with pytest.raises(RuntimeError):
        roadmap("directory", "import", str(path))
    assert _snapshot(db) == before


def test_a_file_with_fewer_columns_erases_nothing(roadmap, db, tmp_path) -> None:
    roadmap("directory", "import", str(write_xlsx(tmp_path / "full.xlsx", directory_rows(3))))
    before = _snapshot(db)
    header = ["Регион", "Муниципалитет", "Образовательная организация", "ИНН"]
    rows = [[r[1], r[2], r[3], r[5]] for r in directory_rows(3)]
    code, out, _ = roadmap(
        "directory", "import", str(write_csv(tmp_path / "short.csv", rows, header)), "--json"
    )
    assert code == 0 and json.loads(out)["unchanged"] == 3
    assert _snapshot(db) == before  # the e-mails and statuses the short file lacks stay
