"""The execution report («отчёт о выполнении») as XLSX: the roadmap's table, school by school."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from engine.cells import append_text_row
from engine.models import Roadmap
from engine.readmodels.progress import ReportLine

COLUMNS = (
    "Раздел",
    "№",
    "Мероприятие",
    "Сроки",
    "Ответственные",
    "Школа",
    "Срок",
    "Состояние",
    "Дата выполнения",
    "Подтверждающие документы",
)
WIDTHS = (28, 6, 50, 18, 28, 28, 12, 16, 16, 40)


def report_xlsx(
    roadmap: Roadmap,
    lines: list[ReportLine],
    label: Callable[[str], str],
    zone: ZoneInfo,
    now: datetime,
) -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Отчёт о выполнении"
    append_text_row(sheet, [f"Отчёт о выполнении: {roadmap.title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    order = f"Приказ № {roadmap.order_number}" if roadmap.order_number else ""
    if roadmap.order_date:
        order += f" от {roadmap.order_date:%d.%m.%Y}"
    append_text_row(
        sheet,
        [order.strip(), "", "", "", "", "", "", "", f"на {now.astimezone(zone):%d.%m.%Y %H:%M}"],
    )
    append_text_row(sheet, list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for line in lines:
        done = line.completed_at.astimezone(zone).strftime("%d.%m.%Y") if line.completed_at else ""
        append_text_row(
            sheet,
            [
                line.section or line.part or "",
                line.number,
                line.title,
                line.deadline_text,
                line.responsible_text or "",
                line.school,
                line.due_on.strftime("%d.%m.%Y") if line.due_on else "без срока",
                label(line.state),
                done,
                line.evidence,
            ],
        )
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_docx(
    roadmap: Roadmap,
    lines: list[ReportLine],
    label: Callable[[str], str],
    zone: ZoneInfo,
    now: datetime,
) -> bytes:
    """The same report as a Word document, landscape, for sending upward."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(f"Отчёт о выполнении: {roadmap.title}", level=1)
    order = f"Приказ № {roadmap.order_number}" if roadmap.order_number else ""
    if roadmap.order_date:
        order += f" от {roadmap.order_date:%d.%m.%Y}"
    document.add_paragraph(
        f"{order}. Сведения на {now.astimezone(zone):%d.%m.%Y %H:%M}.".lstrip(". ")
    )
    columns = (
        "№",
        "Мероприятие",
        "Школа",
        "Срок",
        "Состояние",
        "Дата выполнения",
        "Подтверждающие документы",
    )
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, columns, strict=True):
        cell.text = title
        cell.paragraphs[0].runs[0].bold = True
    for line in lines:
        done = line.completed_at.astimezone(zone).strftime("%d.%m.%Y") if line.completed_at else ""
        values = (
            line.number,
            line.title,
            line.school,
            line.due_on.strftime("%d.%m.%Y") if line.due_on else "без срока",
            label(line.state),
            done,
            line.evidence,
        )
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
