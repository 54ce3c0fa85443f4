"""The execution report is fit to send upward: A4, the sender's header, real dates, an
overdue column, totals that add up, and printed pages that fit."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pdfplumber
import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Roadmap
from tests.builders import print_to_pdf
from tests.factories import count_occurrences
from tests.webclient import client_as

pytestmark = pytest.mark.sqlite_only
SHOTS = Path(__file__).with_name("artifacts") / "reports"
A4_LANDSCAPE = (842, 595)  # points


@pytest.fixture
def app(demo, make_web_app):  # type: ignore[no-untyped-def]
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="reports")


def _download(app, demo, suffix: str) -> bytes:  # type: ignore[no-untyped-def]
    with unit_of_work(demo, readonly=True) as session:
        roadmap_id = session.execute(select(Roadmap.id)).scalar_one()
    response = client_as(app, "coordinator").get(f"/roadmaps/{roadmap_id}/report.{suffix}")
    assert response.status_code == 200
    return response.data


def _municipal_work(demo) -> None:  # type: ignore[no-untyped-def]
    """Give the municipality a task of its own, as «Отдел образования» gets."""
    from engine.lifecycle.definition import SubjectKind
    from engine.models import Activity, Organization, OrganizationKind
    from engine.work.roadmaps import add_occurrences
    from tests.factories import REGISTRY

    with unit_of_work(demo) as session:
        activity = session.execute(select(Activity.id).limit(1)).scalar_one()
        municipality = session.execute(
            select(Organization.id).where(Organization.kind == OrganizationKind.MUNICIPALITY)
        ).scalar_one()
        lifecycle = REGISTRY.for_subject(SubjectKind.OCCURRENCE)
        add_occurrences(session, lifecycle, activity, [municipality], [date(2023, 12, 20)])


def test_the_spreadsheet_prints_on_a4_with_its_header_dates_and_totals(app, demo) -> None:
    _municipal_work(demo)
    book = openpyxl.load_workbook(io.BytesIO(_download(app, demo, "xlsx")))
    sheet = book["Отчёт о выполнении"]
    assert sheet["A1"].value == "Ершичский район, Смоленская область"  # who sends it
    setup = sheet.page_setup
    assert (int(setup.paperSize), setup.orientation) == (9, "landscape")  # 9: A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$5:$5" and sheet.freeze_panes == "A6"
    assert sheet.auto_filter.ref == f"A5:K{sheet.max_row}"
    header = [c.value for c in sheet[5]]
    assert header[5:9] == ["Исполнитель", "Срок", "Состояние", "Просрочено, дней"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=6)]
    assert len(rows) == count_occurrences(demo)
    dated = [r for r in rows if r[6] != "без срока"]
    assert dated and all(r[6].__class__.__name__ == "datetime" for r in dated)  # real dates
    late = [r for r in rows if r[8] not in (None, "")]
    assert late and all(isinstance(r[8], int) and r[8] > 0 for r in late)
    long_title = next(i for i, r in enumerate(rows, start=6) if len(r[2]) > 100)
    assert sheet.row_dimensions[long_title].height >= 3 * 13  # wrapped text gets its room
    municipal = [r for r in rows if str(r[5]).startswith("Муниципалитет (")]
    assert municipal and not any(r[5] == "Ершичский район" for r in rows)

    totals = book["Итоги"]
    table = [[c.value for c in row] for row in totals.iter_rows(min_row=4)]
    overall = next(r for r in table if r[0] == "Итого")
    assert overall[1] == len(rows) and overall[5] == len(late)
    assert int(totals.page_setup.paperSize) == 9


def test_the_word_report_is_a4_landscape_with_totals_first_and_a_signature(app, demo) -> None:
    document = docx.Document(io.BytesIO(_download(app, demo, "docx")))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)
    summary, detail, *rest = document.tables
    assert len(rest) == 1  # the demo roadmap's target indicators
    assert [c.text for c in summary.rows[0].cells][:2] == ["Исполнитель", "Всего задач"]
    assert summary.rows[-1].cells[0].text == "Итого"
    assert int(summary.rows[-1].cells[1].text) == len(detail.rows) - 1
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Ершичский район, Смоленская область"
    assert any("(подпись)" in t for t in texts) and any(t.startswith("«____»") for t in texts)


@pytest.mark.skipif(not shutil.which("soffice"), reason="make office installs it")
@pytest.mark.parametrize("suffix", ["xlsx", "docx"])
def test_printed_every_page_is_a4_and_no_column_is_cut(app, demo, tmp_path, suffix) -> None:
    source = tmp_path / f"otchet.{suffix}"
    source.write_bytes(_download(app, demo, suffix))
    pdf = print_to_pdf(source, tmp_path)
    if shutil.which("pdftoppm"):  # pictures of the first pages, to look at
        SHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-l", "2", str(pdf), str(SHOTS / suffix)],
            check=True,
            timeout=120,
        )
    with pdfplumber.open(pdf) as printed:
        sizes = {(round(p.width), round(p.height)) for p in printed.pages}
        first = printed.pages[0].extract_text() or ""
        words = [w["text"] for p in printed.pages[:3] for w in p.extract_words()]
        right = max(w["x1"] for p in printed.pages for w in p.extract_words())
        pages = len(printed.pages)
    assert sizes == {A4_LANDSCAPE}
    assert "Отчёт о выполнении" in first
    assert any(w.startswith("Подтвержда") for w in words)  # the last column is on the page
    assert right <= A4_LANDSCAPE[0]  # and nothing runs off its edge
    assert pages <= 60


def _with_indicators(demo) -> list[str]:  # type: ignore[no-untyped-def]
    """Give the demo roadmap two target indicators, one of them hostile text."""
    from engine.importing.apply import write_indicators
    from engine.importing.indicators import DraftIndicator, Target
    from engine.models import IndicatorDirection, IndicatorScope

    titles = ["Доля ОО с обновлённой материально-технической базой", '=HYPERLINK("x","y")']
    with unit_of_work(demo) as session:
        roadmap = session.execute(select(Roadmap)).scalar_one()
        drafts = [
            DraftIndicator(
                "1", titles[0], titles[0], Target(80, "%", IndicatorDirection.AT_LEAST),
                [date(2024, 6, 30)], None, IndicatorScope.MUNICIPALITY, baseline=40,
            ),
            DraftIndicator(
                "2", titles[1], titles[1], Target(3, "points", IndicatorDirection.INCREASE_BY),
                [date(2024, 6, 30)], "к 30.06.2024", IndicatorScope.SCHOOL,
            ),
        ]  # fmt: skip
        write_indicators(session, roadmap.id, drafts, {})
    return titles


def test_the_report_lists_the_target_indicators(app, demo, tmp_path) -> None:
    titles = _with_indicators(demo)
    book = openpyxl.load_workbook(io.BytesIO(_download(app, demo, "xlsx")))
    sheet = book["Целевые показатели"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0] == ["№", "Показатель", "Базовое значение", "Цель", "Срок", "Чьё значение"]
    assert rows[1] == ["1", titles[0], "40", "не менее 80 %", "30.06.2024", "муниципалитет в целом"]
    assert rows[2][1] != titles[1] and rows[2][1].endswith(titles[1])  # stays text
    assert rows[2][3:] == ["рост на 3 балл.", "к 30.06.2024", "каждая школа"]
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    document = docx.Document(io.BytesIO(_download(app, demo, "docx")))
    targets = document.tables[-1]
    assert [c.text for c in targets.rows[1].cells][:4] == ["1", titles[0], "40", "не менее 80 %"]
    if shutil.which("soffice"):  # printed, the sheet fits the page
        source = tmp_path / "otchet.xlsx"
        source.write_bytes(_download(app, demo, "xlsx"))
        pdf = print_to_pdf(source, tmp_path)
        with pdfplumber.open(pdf) as printed:
            last = printed.pages[-1]
            assert "Целевые показатели" in (last.extract_text() or "")
            assert max(w["x1"] for w in last.extract_words()) <= A4_LANDSCAPE[0]
