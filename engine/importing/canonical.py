"""The canonical roadmap format (YAML or JSON), and exports that import back unchanged."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlmodel import Session

from engine.cells import append_text_row
from engine.deadlines.parser import Period
from engine.errors import NotFoundError, ValidationError, check_length
from engine.importing.indicators import (
    UNITS,
    DraftIndicator,
    Target,
    checked_value,
    plain_number,
    target_words,
)
from engine.importing.sources import DocumentError
from engine.importing.structure import DraftActivity, RoadmapDraft, recover_schedules
from engine.models import (
    Activity,
    Indicator,
    IndicatorDirection,
    IndicatorScope,
    Roadmap,
    Section,
)

FORMAT = "roadmap-engine/1"
ACTIVITY_KEYS = (
    "part",
    "section_number",
    "section_title",
    "number",
    "title",
    "description",
    "level",
    "deadline",
    "responsible",
    "result",
    "report_form",
)
INDICATOR_KEYS = (
    "number",
    "activity",
    "title",
    "text",
    "target",
    "baseline",
    "due",
    "due_text",
    "scope",
)


def export_dict(session: Session, roadmap_id: int) -> dict[str, Any]:
    """A roadmap as plain data: what a person wrote, not what was derived from it."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    rows = session.execute(
        select(Activity, Section)
        .outerjoin(Section, Section.id == Activity.section_id)
        .where(Activity.roadmap_id == roadmap_id)
        .order_by(Activity.position, Activity.id)
    ).all()
    return {
        "format": FORMAT,
        "title": roadmap.title,
        "order": {
            "number": roadmap.order_number,
            "date": roadmap.order_date.isoformat() if roadmap.order_date else None,
        },
        "period": {
            "start": roadmap.period_start.isoformat(),
            "end": roadmap.period_end.isoformat(),
        },
        "activities": [
            {
                "part": activity.part,
                "section_number": section.number if section else None,
                "section_title": section.title if section else None,
                "number": activity.number,
                "title": activity.title,
                "description": activity.description,
                "level": activity.level,
                "deadline": activity.deadline_text,
                "responsible": activity.responsible_text,
                "result": activity.planned_result,
                "report_form": activity.report_form,
            }
            for activity, section in rows
        ],
        "indicators": _indicators(session, roadmap_id, {a.id: a for a, _ in rows}),
    }


def _indicators(
    session: Session, roadmap_id: int, activities: dict[int | None, Activity]
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Indicator)
        .where(Indicator.roadmap_id == roadmap_id)
        .order_by(Indicator.position, Indicator.id)
    ).scalars()
    out = []
    for row in rows:
        activity = activities.get(row.activity_id) if row.activity_id else None
        target = (
            {"value": row.target_value, "unit": row.unit, "direction": row.direction}
            if row.target_value is not None
            else None
        )
        out.append(
            {
                "number": row.number,
                "activity": (
                    {"part": activity.part, "number": activity.number} if activity else None
                ),
                "title": row.title,
                "text": row.text,
                "target": target,
                "baseline": row.baseline,
                "due": list(row.due),
                "due_text": row.due_text,
                "scope": row.scope,
            }
        )
    return out


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML that people can read and edit: Cyrillic as is, keys in their order."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def read_canonical(path: Path, period: Period | None = None) -> RoadmapDraft:
    """A draft from a canonical YAML or JSON file; every problem names the file and activity."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(f"{name}: unknown text encoding (expected UTF-8)") from error
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise DocumentError(
            f"{name}: not valid {path.suffix.lstrip('.').upper()}: {str(error).splitlines()[0]}"
        ) from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DocumentError(f"{name}: not a roadmap file (expected format: {FORMAT})")
    try:
        file_period = Period(
            date.fromisoformat(data["period"]["start"]), date.fromisoformat(data["period"]["end"])
        )
        order = data.get("order") or {}
        order_date = date.fromisoformat(order["date"]) if order.get("date") else None
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentError(
            f"{name}: period or order date missing or malformed ({error})"
        ) from None
    activities = []
    for index, item in enumerate(data.get("activities") or [], start=1):
        if not isinstance(item, dict) or not item.get("title") or not item.get("number"):
            raise DocumentError(f"{name}: activity {index}: needs at least a number and a title")
        unknown = set(item) - set(ACTIVITY_KEYS)
        if unknown:
            raise DocumentError(f"{name}: activity {index}: unknown fields {sorted(unknown)}")
        values = {
            key: (str(item[key]) if item.get(key) is not None else None) for key in ACTIVITY_KEYS
        }
        activities.append(
            DraftActivity(
                part=values["part"],
                section_number=values["section_number"],
                section_title=values["section_title"],
                number=values["number"] or "",
                title=values["title"] or "",
                row=None,
                description=values["description"],
                level=values["level"],
                deadline_text=values["deadline"] or "",
                responsible_text=values["responsible"],
                planned_result=values["result"],
                report_form=values["report_form"],
            )
        )
    if not activities:
        raise DocumentError(f"{name}: the roadmap has no activities")
    indicators = [
        _read_indicator(name, index, item, activities, period or file_period)
        for index, item in enumerate(data.get("indicators") or [], start=1)
    ]
    draft = RoadmapDraft(
        name,
        str(data.get("title") or name),
        order.get("number"),
        order_date,
        period or file_period,
        activities,
        [],
    )
    recover_schedules(draft)
    draft.indicators = indicators
    return draft


def _read_indicator(
    name: str, index: int, item: Any, activities: list[DraftActivity], period: Period
) -> DraftIndicator:
    """One indicator of a canonical file; every problem names the file and the indicator."""
    where = f"{name}: indicator {index}"
    if not isinstance(item, dict) or not item.get("title"):
        raise DocumentError(f"{where}: needs at least a title")
    unknown = set(item) - set(INDICATOR_KEYS)
    if unknown:
        raise DocumentError(f"{where}: unknown fields {sorted(unknown)}")
    try:
        target = item.get("target")
        read = (
            Target(
                checked_value("target value", float(target["value"])),
                target.get("unit"),
                IndicatorDirection(target.get("direction") or IndicatorDirection.AT_LEAST),
            )
            if target is not None
            else None
        )
        if read is not None and read.unit is not None and read.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        baseline = (
            checked_value("baseline", float(item["baseline"]))
            if item.get("baseline") is not None
            else None
        )
        for name, limit in (("title", 5_000), ("text", 10_000), ("due_text", 1_000)):
            check_length(name.replace("_", " "), str(item.get(name) or ""), limit)
        due = [date.fromisoformat(str(d)) for d in item.get("due") or []] or [period.end]
        scope = IndicatorScope(item.get("scope") or IndicatorScope.MUNICIPALITY)
    except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as error:
        raise DocumentError(f"{where}: {error}") from None
    source = None
    if ref := item.get("activity"):
        if not isinstance(ref, dict):
            raise DocumentError(f"{where}: activity must be {{part, number}}")
        key = (ref.get("part"), str(ref.get("number")))
        source = next((a for a in activities if (a.part, a.number) == key), None)
        if source is None:
            raise DocumentError(f"{where}: no activity {key[1]} in this file")
    indicator = DraftIndicator(
        str(item["number"]) if item.get("number") is not None else None,
        str(item["title"]),
        str(item.get("text") or item["title"]),
        read,
        due,
        str(item["due_text"]) if item.get("due_text") else None,
        scope,
        baseline,
        source.number if source else None,
    )
    indicator.source = source
    return indicator


_COLUMNS = (
    "№",
    "Уровень управления",
    "Мероприятие",
    "Описание (целевая аудитория)",
    "Сроки",
    "Ответственные",
    "Планируемый результат",
    "Формы отчетных документов",
)


def export_xlsx(data: dict[str, Any]) -> bytes:
    """The roadmap as a spreadsheet in the shape people send, which imports back the same."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Дорожная карта"
    append_text_row(sheet, [data["title"]])
    order = data["order"]
    if order["number"] or order["date"]:
        when = date.fromisoformat(order["date"]).strftime("%d.%m.%Y") if order["date"] else ""
        append_text_row(sheet, [f"Приказ № {order['number'] or ''} от {when}".strip()])
    start, end = (date.fromisoformat(data["period"][k]) for k in ("start", "end"))
    append_text_row(sheet, [f"Период: {start:%d.%m.%Y} – {end:%d.%m.%Y}"])
    part = section = object()
    for item in data["activities"]:
        if item["part"] != part:
            part, section = item["part"], object()
            if part:
                append_text_row(sheet, [part])
            append_text_row(sheet, list(_COLUMNS))
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        key = (item["section_number"], item["section_title"])
        if key != section:
            section = key
            if item["section_title"]:
                number = f"{item['section_number']}. " if item["section_number"] else ""
                append_text_row(sheet, [f"{number}{item['section_title']}"])
                sheet[sheet.max_row][0].font = Font(bold=True)
        append_text_row(
            sheet,
            [
                item["number"],
                item["level"],
                item["title"],
                item["description"],
                item["deadline"],
                item["responsible"],
                item["result"],
                item["report_form"],
            ],
        )
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGH", (8, 16, 50, 40, 20, 30, 35, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    indicators = [i for i in data.get("indicators") or [] if i["activity"] is None]
    if indicators:
        _indicator_sheet(workbook.create_sheet("Целевые показатели"), indicators)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_INDICATOR_COLUMNS = (
    "№",
    "Наименование показателя",
    "Базовое значение",
    "Целевое значение",
    "Срок",
)


def _indicator_sheet(sheet: Any, indicators: list[dict[str, Any]]) -> None:
    """The roadmap's own target indicators, in the table the importer reads back; those that
    planned results state come back with their activities."""
    from openpyxl.styles import Alignment, Font

    append_text_row(sheet, ["Целевые показатели"])
    sheet[1][0].font = Font(bold=True)
    append_text_row(sheet, list(_INDICATOR_COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for item in indicators:
        target = item["target"]
        due = item["due_text"] or ", ".join(
            date.fromisoformat(d).strftime("%d.%m.%Y") for d in item["due"]
        )
        append_text_row(
            sheet,
            [
                item["number"],
                item["title"],
                plain_number(item["baseline"]) if item["baseline"] is not None else None,
                target_words(target["value"], target["unit"], target["direction"])
                if target
                else None,
                due,
            ],
        )
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (8, 60, 16, 20, 24), strict=True):
        sheet.column_dimensions[letter].width = width
