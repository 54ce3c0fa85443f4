"""The execution report («отчёт о выполнении») ready to send upward: XLSX and DOCX on A4,
with the sender's header, totals by executor and by section, and the roadmap's own table."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.cells import append_typed_row
from engine.importing.indicators import plain_number, target_words
from engine.models import Indicator, IndicatorScope, Roadmap
from engine.readmodels.progress import ReportHeading, ReportLine
from engine.readmodels.progress import Totals as AreaTotals
from engine.readmodels.rounds import Mark, Plan

#: The detail table: (title, width in characters).
COLUMNS = (
    ("Раздел", 22),
    ("№", 6),
    ("Мероприятие", 44),
    ("Сроки по документу", 16),
    ("Ответственные", 22),
    ("Исполнитель", 24),
    ("Срок", 11),
    ("Состояние", 14),
    ("Просрочено, дней", 10),
    ("Дата выполнения", 11),
    ("Подтверждающие документы", 30),
)
TOTAL_COLUMNS = (
    "Всего задач",
    "Срок наступил",
    "Выполнено",
    "На проверке",
    "Просрочено",
    "Выполнено из наступивших, %",
)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
THIN = Side(style="thin", color="999999")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
COUNTS = ("total", "due", "done", "under_review", "overdue")


@dataclass
class Totals:
    """The counts of one executor or one section."""

    total: int = 0
    due: int = 0
    done: int = 0
    under_review: int = 0
    overdue: int = 0

    def add(self, line: ReportLine, now: datetime) -> None:
        self.total += 1
        self.due += bool(line.due_on and line.due_on <= now.date())
        self.done += line.done
        self.under_review += line.under_review
        self.overdue += line.overdue_days is not None

    def absorb(self, other: Totals) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.due) if self.due else None

    def cells(self) -> list[object]:
        percent = self.percent
        return [
            self.total,
            self.due,
            self.done,
            self.under_review,
            self.overdue,
            "—" if percent is None else percent,
        ]


def executor(line: ReportLine) -> str:
    """A school by its name; the municipality's own work said so."""
    return f"Муниципалитет ({line.school})" if line.municipal else line.school


def totals_by(
    lines: Iterable[ReportLine], key: Callable[[ReportLine], str], now: datetime
) -> dict[str, Totals]:
    """The counts of each group of lines, in the order the groups first appear."""
    out: dict[str, Totals] = {}
    for line in lines:
        out.setdefault(key(line), Totals()).add(line, now)
    return out


def _section(line: ReportLine) -> str:
    return " · ".join(p for p in (line.part, line.section) if p) or "Без раздела"


def _order(roadmap: Roadmap) -> str:
    order = f"Приказ № {roadmap.order_number}" if roadmap.order_number else ""
    if roadmap.order_date:
        order += f" от {roadmap.order_date:%d.%m.%Y}"
    return order.strip()


def _sender(heading: ReportHeading) -> str:
    return ", ".join(p for p in (heading.owner, heading.region) if p)


def _a4(sheet: Worksheet, title_rows: str | None) -> None:
    """A4 landscape, as wide as one page, with the header row on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    sheet.oddFooter.center.text = "Страница &P из &N"
    if title_rows:
        sheet.print_title_rows = title_rows


def _fit_rows(sheet: Worksheet, first: int, widths: list[int]) -> None:
    """Row heights for the wrapped text (spreadsheets do not grow a row on their own when a
    file says nothing, and printed text would overlap)."""
    for row in sheet.iter_rows(min_row=first):
        lines = 1
        for cell, width in zip(row, widths, strict=False):
            text = "" if cell.value is None else str(cell.value)
            per_line = max(int(width * 1.1), 1)
            lines = max(lines, sum(max(1, -(-len(part) // per_line)) for part in text.split("\n")))
        sheet.row_dimensions[row[0].row].height = 13 * lines + 2


def _header_row(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = GRID
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")


def report_xlsx(
    roadmap: Roadmap,
    lines: list[ReportLine],
    label: Callable[[str], str],
    zone: ZoneInfo,
    now: datetime,
    heading: ReportHeading | None = None,
    indicators: Sequence[Indicator] = (),
    plan: Plan | None = None,
) -> bytes:
    """The workbook's bytes: the detail table, the totals, the target indicators, and their
    values in each monitoring round."""
    heading = heading or ReportHeading("", None)
    local = now.astimezone(zone)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Отчёт о выполнении"
    append_typed_row(sheet, [_sender(heading)])
    append_typed_row(sheet, [f"Отчёт о выполнении: {roadmap.title}"])
    append_typed_row(sheet, [f"{_order(roadmap)}. Сведения на {local:%d.%m.%Y %H:%M}".lstrip(". ")])
    sheet["A1"].font = Font(bold=True)
    sheet["A2"].font = Font(bold=True, size=12)
    sheet.append([])
    header = 5
    append_typed_row(sheet, [title for title, _ in COLUMNS])
    _header_row(sheet, header)
    for line in lines:
        done = line.completed_at.astimezone(zone).date() if line.completed_at else None
        append_typed_row(
            sheet,
            [
                _section(line),
                line.number,
                line.title,
                line.deadline_text,
                line.responsible_text or "",
                executor(line),
                line.due_on or "без срока",
                label(line.state),
                line.overdue_days if line.overdue_days is not None else "",
                done or "",
                line.evidence,
            ],
        )
    for row in sheet.iter_rows(min_row=header + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = GRID
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _fit_rows(sheet, header, [width for _, width in COLUMNS])
    sheet.row_dimensions[header].height += 13  # bold words wrap sooner
    last = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A{header}:{last}{max(sheet.max_row, header)}"
    sheet.freeze_panes = f"A{header + 1}"
    _a4(sheet, f"{header}:{header}")
    _totals_sheet(book.create_sheet("Итоги"), roadmap, lines, local)
    if indicators:
        _indicators_sheet(book.create_sheet("Целевые показатели"), roadmap, indicators)
    if plan is not None and plan.tracks:
        _rounds_sheet(book.create_sheet("Мониторинг показателей"), roadmap, plan)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _totals_sheet(
    sheet: Worksheet, roadmap: Roadmap, lines: list[ReportLine], now: datetime
) -> None:
    append_typed_row(sheet, [f"Итоги: {roadmap.title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    append_typed_row(sheet, [f"Сведения на {now:%d.%m.%Y %H:%M}"])
    for title, key in (("Исполнитель", executor), ("Раздел", _section)):
        sheet.append([])
        append_typed_row(sheet, [title, *TOTAL_COLUMNS])
        _header_row(sheet, sheet.max_row)
        overall = Totals()
        for name, counts in totals_by(lines, key, now).items():
            append_typed_row(sheet, [name, *counts.cells()])
            overall.absorb(counts)
        append_typed_row(sheet, ["Итого", *overall.cells()])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 48
    for index in range(2, len(TOTAL_COLUMNS) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 14
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _fit_rows(sheet, 4, [48, *[14] * len(TOTAL_COLUMNS)])
    _a4(sheet, None)


#: The target indicators' table: its columns and their widths (characters, millimetres).
INDICATOR_COLUMNS = (
    ("№", 6, 10),
    ("Показатель", 80, 105),
    ("Базовое значение", 14, 25),
    ("Цель", 18, 32),
    ("Срок", 22, 40),
    ("Чьё значение", 22, 35),
)
_SCOPES = {
    IndicatorScope.MUNICIPALITY: "муниципалитет в целом",
    IndicatorScope.SCHOOL: "каждая школа",
}


def _indicator_cells(indicator: Indicator) -> list[object]:
    target = indicator.target_value
    due = indicator.due_text or ", ".join(
        date.fromisoformat(d).strftime("%d.%m.%Y") for d in indicator.due
    )
    return [
        indicator.number or "",
        indicator.title,
        plain_number(indicator.baseline) if indicator.baseline is not None else "—",
        target_words(target, indicator.unit, indicator.direction) if target is not None else "—",
        due,
        _SCOPES.get(IndicatorScope(indicator.scope), indicator.scope),
    ]


def _indicators_sheet(sheet: Worksheet, roadmap: Roadmap, indicators: Sequence[Indicator]) -> None:
    append_typed_row(sheet, [f"Целевые показатели: {roadmap.title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([])
    header = 3
    append_typed_row(sheet, [title for title, _, _ in INDICATOR_COLUMNS])
    _header_row(sheet, header)
    for indicator in indicators:
        append_typed_row(sheet, _indicator_cells(indicator))
    for row in sheet.iter_rows(min_row=header + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = GRID
    widths = [width for _, width, _ in INDICATOR_COLUMNS]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _fit_rows(sheet, header, widths)
    _a4(sheet, f"{header}:{header}")


#: How an indicator stands against its target, as the report says it.
MARK_WORDS = {Mark.ON_TRACK: "в графике", Mark.AT_RISK: "под угрозой", Mark.OFF_TRACK: "отстаёт"}


def round_table(plan: Plan) -> tuple[list[str], list[list[object]]]:
    """The header and rows of the values per round: mean of the accepted values of each."""
    rounds = plan.tracks[0].rounds if plan.tracks else []
    header = [
        "№",
        "Показатель",
        "Цель",
        *(f"{r.round_title} (до {r.closes_on:%d.%m.%Y})" for r in rounds),
        "Оценка",
    ]
    rows: list[list[object]] = []
    for track in plan.tracks:
        indicator = track.indicator
        target = indicator.target_value
        rows.append(
            [
                indicator.number or "",
                indicator.title,
                target_words(target, indicator.unit, indicator.direction)
                if target is not None
                else "—",
                *(round(r.value, 2) if r.value is not None else "—" for r in track.rounds),
                MARK_WORDS.get(track.mark, "—") if track.mark else "—",
            ]
        )
    return header, rows


def _rounds_sheet(sheet: Worksheet, roadmap: Roadmap, plan: Plan) -> None:
    append_typed_row(sheet, [f"Значения показателей по этапам мониторинга: {roadmap.title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    append_typed_row(sheet, ["Среднее принятых значений участников за этап"])
    header_row = 4
    sheet.append([])
    header, rows = round_table(plan)
    append_typed_row(sheet, header)
    _header_row(sheet, header_row)
    for row in rows:
        append_typed_row(sheet, row)
    widths = [6, 60, 18, *[16] * (len(header) - 4), 14]
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = GRID
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _fit_rows(sheet, header_row, widths)
    _a4(sheet, f"{header_row}:{header_row}")


def report_docx(
    roadmap: Roadmap,
    lines: list[ReportLine],
    label: Callable[[str], str],
    zone: ZoneInfo,
    now: datetime,
    heading: ReportHeading | None = None,
    indicators: Sequence[Indicator] = (),
    plan: Plan | None = None,
) -> bytes:
    """The same report as a Word document: A4 landscape, the sender's header, the totals
    first, the table, the target indicators, and a signature block."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Mm, Pt

    heading = heading or ReportHeading("", None)
    local = now.astimezone(zone)
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin = section.bottom_margin = Mm(12)
    sender = document.add_paragraph(_sender(heading))
    sender.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_heading(f"Отчёт о выполнении: {roadmap.title}", level=1)
    document.add_paragraph(f"{_order(roadmap)}. Сведения на {local:%d.%m.%Y %H:%M}.".lstrip(". "))

    document.add_heading("Итоги по исполнителям", level=2)
    summary = document.add_table(rows=1, cols=len(TOTAL_COLUMNS) + 1)
    summary.style = "Table Grid"
    _docx_row(summary.rows[0].cells, ["Исполнитель", *TOTAL_COLUMNS], bold=True)
    overall = Totals()
    for name, counts in totals_by(lines, executor, local).items():
        _docx_row(summary.add_row().cells, [name, *counts.cells()])
        overall.absorb(counts)
    _docx_row(summary.add_row().cells, ["Итого", *overall.cells()], bold=True)
    _widths(summary, [Mm(85), *[Mm(27)] * len(TOTAL_COLUMNS)])

    document.add_heading("Мероприятия", level=2)
    columns = (
        ("№", 10),
        ("Мероприятие", 70),
        ("Исполнитель", 38),
        ("Срок", 22),
        ("Состояние", 30),
        ("Просрочено, дней", 18),
        ("Дата выполнения", 22),
        ("Подтверждающие документы", 57),
    )
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    _docx_row(table.rows[0].cells, [title for title, _ in columns], bold=True)
    for line in lines:
        done = line.completed_at.astimezone(zone) if line.completed_at else None
        _docx_row(
            table.add_row().cells,
            [
                line.number,
                line.title,
                executor(line),
                f"{line.due_on:%d.%m.%Y}" if line.due_on else "без срока",
                label(line.state),
                "" if line.overdue_days is None else line.overdue_days,
                f"{done:%d.%m.%Y}" if done else "",
                line.evidence,
            ],
        )
    _widths(table, [Mm(width) for _, width in columns])
    repeat = table.rows[0]._tr.get_or_add_trPr()  # the header row repeats on every page
    repeat.append(OxmlElement("w:tblHeader"))

    if indicators:
        document.add_heading("Целевые показатели", level=2)
        targets = document.add_table(rows=1, cols=len(INDICATOR_COLUMNS))
        targets.style = "Table Grid"
        _docx_row(targets.rows[0].cells, [t for t, _, _ in INDICATOR_COLUMNS], bold=True)
        for indicator in indicators:
            _docx_row(targets.add_row().cells, _indicator_cells(indicator))
        _widths(targets, [Mm(width) for _, _, width in INDICATOR_COLUMNS])

    if plan is not None and plan.tracks:
        document.add_heading("Значения показателей по этапам мониторинга", level=2)
        document.add_paragraph("Среднее принятых значений участников за этап.")
        header, rows = round_table(plan)
        values = document.add_table(rows=1, cols=len(header))
        values.style = "Table Grid"
        _docx_row(values.rows[0].cells, header, bold=True)
        for row in rows:
            shown = [plain_number(v) if isinstance(v, float) else v for v in row]
            _docx_row(values.add_row().cells, shown)
        rest = (267 - 10 - 90 - 32 - 25) / max(1, len(header) - 4)
        _widths(values, [Mm(10), Mm(90), Mm(32), *[Mm(rest)] * (len(header) - 4), Mm(25)])

    document.add_paragraph()
    document.add_paragraph("Руководитель органа управления образованием")
    document.add_paragraph("_______________________ / _______________________ /")
    document.add_paragraph("          (подпись)                            (расшифровка)")
    document.add_paragraph(f"«____» ______________ {local:%Y} г.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _widths(table: Any, widths: list[Any]) -> None:
    """Column widths that Word and LibreOffice both keep: the grid's and every cell's."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _docx_row(cells: Any, values: list[object], *, bold: bool = False) -> None:
    from docx.shared import Pt

    for cell, value in zip(cells, values, strict=True):
        cell.text = str(value)
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(9)
                run.bold = bold


#: The dashboard's table as exported: (title, width in characters).
AREA_COLUMNS = (
    ("Задач", 9),
    ("Одобрено", 10),
    ("Одобрено, % плана", 11),
    ("Срок наступил", 10),
    ("Выполнено к сроку", 11),
    ("К сроку, %", 10),
    ("На проверке", 10),
    ("Просрочено", 13),
)


def progress_xlsx(
    title: str,
    first_column: str,
    rows: list[tuple[str, AreaTotals]],
    overall: AreaTotals,
    now: datetime,
) -> bytes:
    """The dashboard's table as shown (its filter, its order) with a total row: A4, header
    on every page, autofilter, numbers as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Мониторинг"
    append_typed_row(sheet, [title])
    append_typed_row(sheet, [f"Сведения на {now:%d.%m.%Y %H:%M}"])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([])
    header = 4
    append_typed_row(sheet, [first_column, *(name for name, _ in AREA_COLUMNS)])
    _header_row(sheet, header)
    for name, figures in rows:
        append_typed_row(sheet, [name, *_area_cells(figures)])
    append_typed_row(sheet, ["Итого", *_area_cells(overall)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    widths = [48, *(width for _, width in AREA_COLUMNS)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=header + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = GRID
    _fit_rows(sheet, header + 1, widths)
    sheet.row_dimensions[header].height = 42
    last = get_column_letter(len(widths))
    sheet.auto_filter.ref = f"A{header}:{last}{sheet.max_row - 1}"
    sheet.freeze_panes = f"B{header + 1}"
    _a4(sheet, f"{header}:{header}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _area_cells(figures: AreaTotals) -> list[int]:
    return [
        figures.total,
        figures.done,
        figures.percent,
        figures.due,
        figures.done_due,
        figures.percent_due,
        figures.under_review,
        figures.overdue,
    ]
