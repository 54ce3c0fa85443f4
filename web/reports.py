"""The execution report («отчёт о выполнении») as XLSX: the roadmap's table, school by school."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from engine.models import Roadmap
from engine.pages import ReportLine

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
    sheet.append([f"Отчёт о выполнении: {roadmap.title}"])
    sheet["A1"].font = Font(bold=True, size=12)
    order = f"Приказ № {roadmap.order_number}" if roadmap.order_number else ""
    if roadmap.order_date:
        order += f" от {roadmap.order_date:%d.%m.%Y}"
    sheet.append(
        [order.strip(), "", "", "", "", "", "", "", f"на {now.astimezone(zone):%d.%m.%Y %H:%M}"]
    )
    sheet.append(list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for line in lines:
        done = line.completed_at.astimezone(zone).strftime("%d.%m.%Y") if line.completed_at else ""
        sheet.append(
            [
                line.section or line.part or "",
                line.number,
                line.title,
                line.deadline,
                line.responsible or "",
                line.school,
                line.due_on.strftime("%d.%m.%Y") if line.due_on else "без срока",
                label(line.state),
                done,
                line.evidence,
            ]
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
