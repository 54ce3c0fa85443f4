"""Recovering a roadmap from paragraphs and tables: title, order, period, parts, sections, rows."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.deadlines.parser import (
    GENITIVE_MONTHS,
    Period,
    Schedule,
    ScheduleKind,
    normalize,
    parse_deadline,
)
from engine.importing.indicators import (
    DraftIndicator,
    Found,
    from_blocks,
    from_results,
    indicator_heading,
)
from engine.importing.sources import Block, DocumentError, Paragraph, Table

FIELDS = (
    "number",
    "level",
    "title",
    "description",
    "deadline_text",
    "responsible_text",
    "planned_result",
    "report_form",
)

#: Header words by meaning, checked in this order (the first field that matches wins).
HEADER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("number", re.compile(r"^(№|n|no|номер)\b|№\s*п/?п|^п/п$|^№")),
    ("level", re.compile(r"уровень")),
    ("deadline_text", re.compile(r"срок|^дата|период исполн|^когда|^ср\b")),
    ("responsible_text", re.compile(r"ответств|исполнител|^отв\b|^исп\b|^кто\b")),
    (
        "report_form",
        re.compile(
            r"форм\w* отч|отчетн|подтвержд|информационное сопровождение"
            r"|документ"
        ),
    ),
    ("planned_result", re.compile(r"результат|рез-т|показател|ожидаем|эффект")),
    ("description", re.compile(r"описание|целевая аудитория|специфик|содержание работы")),
    (
        "title",
        re.compile(
            r"мероприят|мер-ти|контрольная точка|наименование|^наим\b|направлени|содержание"
            r"|^действи|^задач"
        ),
    ),
)

#: The words of the headers, for reading a mistyped one («Мероприятя», «Срокии исполнения»).
_HEADER_WORDS = {
    "мероприятие": "title",
    "мероприятия": "title",
    "наименование": "title",
    "содержание": "title",
    "направление": "title",
    "сроки": "deadline_text",
    "срок": "deadline_text",
    "исполнения": "deadline_text",
    "ответственные": "responsible_text",
    "ответственный": "responsible_text",
    "исполнители": "responsible_text",
    "исполнитель": "responsible_text",
    "результат": "planned_result",
    "ожидаемый": "planned_result",
    "показатели": "planned_result",
    "подтверждение": "report_form",
    "отчетности": "report_form",
    "документ": "report_form",
}


def header_text(cell: str) -> str:
    """A header cell as plain words: lower case, no formatting marks, «С р о к и» joined."""
    text = cell.lower().replace("ё", "е")
    text = re.sub(r"[*_«»\"'`~]+", "", text)
    text = re.sub(
        r"(?<![а-яa-z])((?:[а-я] ){2,}[а-я])(?![а-яa-z])",
        lambda m: m.group(1).replace(" ", ""),
        text,
    )
    return re.sub(r"\s+", " ", text).strip(" :.")


def _mistyped(text: str) -> str | None:
    """The field of a header whose word is one letter or two away from a known one."""
    for word in re.findall(r"[а-я]{4,}", text):
        close = difflib.get_close_matches(word, _HEADER_WORDS, n=1, cutoff=0.8)
        if close:
            return _HEADER_WORDS[close[0]]
    return None


_PART = re.compile(r"(?i)^(приложение|раздел|часть)\s*(№\s*)?(\d+|[IVXLC]+)\b")
_NUMBER = re.compile(r"^\d+(\.\d+)*\.?$")
_NUMBERED_TITLE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)[.)]?\s+(\S.*)$", re.S)
_SECTION_TEXT = re.compile(r"^(\d+)\.?\s+(\S.*)$", re.S)
_PLAN_TITLE = re.compile(r"(?i)^(дорожн\w* карт\w*|план\w* мероприяти\w*|план-график|план работы)")


@dataclass
class DraftActivity:
    """One activity as read from the document, before it touches the database."""

    part: str | None
    section_number: str | None
    section_title: str | None
    number: str
    title: str
    row: int | None
    description: str | None = None
    level: str | None = None
    deadline_text: str = ""
    responsible_text: str | None = None
    planned_result: str | None = None
    report_form: str | None = None
    schedule: Schedule | None = None

    @property
    def section(self) -> str | None:
        """The section as people read it: "1. Организационно-управленческое направление"."""
        if self.section_title is None:
            return None
        return (
            f"{self.section_number}. {self.section_title}"
            if self.section_number
            else (self.section_title)
        )

    def responsible_parties(self) -> list[str]:
        """The responsible text split into parties."""
        return split_parties(self.responsible_text)

    def to_dict(self) -> dict[str, Any]:
        """The activity in the dry-run JSON contract."""
        assert self.schedule is not None
        return {
            "part": self.part,
            "section": self.section,
            "number": self.number,
            "title": self.title,
            "level": self.level,
            "deadline": self.schedule.to_dict(),
            "responsible": self.responsible_parties(),
            "result": self.planned_result,
            "report_form": self.report_form,
        }


@dataclass
class DraftWarning:
    """Something the importer could not fully understand, and where."""

    row: int | None
    activity: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "activity": self.activity, "message": self.message}


@dataclass
class TableLayout:
    """One roadmap table's header as read: its row, its cells and the field of each column."""

    row: int | None
    cells: list[str]
    columns: dict[str, int]


@dataclass
class RoadmapDraft:
    """A whole roadmap as read from one document."""

    source: str
    title: str
    order_number: str | None
    order_date: date | None
    period: Period
    activities: list[DraftActivity] = field(default_factory=list)
    warnings: list[DraftWarning] = field(default_factory=list)
    tables: list[TableLayout] = field(default_factory=list)
    indicators: list[DraftIndicator] = field(default_factory=list)

    def read_indicators(self, blocks: list[Block] | None = None) -> None:
        """Read the indicators: the document's list (from `blocks`, kept when not given) and
        the planned results that state a target, read again from the activities."""
        listed = (
            from_blocks(blocks, self.period)
            if blocks is not None
            else Found([i for i in self.indicators if i.activity is None])
        )
        results = from_results(self.activities, self.period)
        self.indicators = listed.indicators + results.indicators
        for row, label, message in listed.warnings + results.warnings:
            warning = DraftWarning(row, label, message)
            if warning not in self.warnings:
                self.warnings.append(warning)

    def to_dict(self) -> dict[str, Any]:
        """The dry-run JSON contract."""
        return {
            "title": self.title,
            "order": {
                "number": self.order_number,
                "date": self.order_date.isoformat() if self.order_date else None,
            },
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "activities": [a.to_dict() for a in self.activities],
            "indicators": [i.to_dict() for i in self.indicators],
            "warnings": [w.to_dict() for w in self.warnings],
        }


#: Capitalized nouns that begin a party's name (a person's role).
_ROLE_WORD = r"(?:Директор|Руководител|Заместител|Куратор|Методист|Специалист|Учител|Педагог)"


def split_parties(text: str | None) -> list[str]:
    """'Отдел по образованию, МОЦ' → ['Отдел по образованию', 'МОЦ']; a new party also starts
    with a capitalized role word run on after another party ('Директор СОШ №8 Директор СОШ
    №19', as a PDF's cell gives two lines)."""
    if not text:
        return []
    parts = re.split(rf"\s*[,;\n]\s*|(?<=\S)\s+(?={_ROLE_WORD})", text)
    return [p.strip() for p in parts if p.strip(" .")]


def match_header(cells: list[str]) -> dict[str, int]:
    """Column index of each field found in a header row, by the meaning of its words (a
    mistyped word is read as the word it is closest to)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = header_text(cell)
        if not text:
            continue
        matched = [name for name, pattern in HEADER_PATTERNS if pattern.search(text)]
        name = next((name for name in matched if name not in columns), None)
        if not matched and len(text) <= 40:
            name = _mistyped(text)
        if name is not None and name not in columns:
            columns[name] = index
    return columns


# --- columns by content --------------------------------------------------------------------

_NUMBER_CELL = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?$")
_PARTY_WORDS = re.compile(
    r"(?i)директор|руководител|заместител|\bзам\.|куратор|методист|специалист|учител|педагог"
    r"|администрац|управлени|отдел|комитет|\bмоуо\b|\bоо\b|\bшкол|\bсош\b|\bоош\b|лице|гимнази"
    r"|цнппм|\bиро\b|\bипк|\bмоц\b|центр|классн|психолог|координатор|муниципал|министерств"
)
#: What a deadline cell is made of besides its dates.
_DATE_WORDS = re.compile(
    r"\b(?:\w*течени\w*|период\w*|постоянн\w*|ежегодн\w*|ежемесячн\w*|ежекварт\w*"
    r"|еженедел\w*|ежедневн\w*|полугод\w*|полгода|квартал\w*|четверт\w*|учебн\w*|год\w*"
    r"|месяц\w*|недел\w*|числ\w*|рабоч\w*|дн\w*|день|позднее|позже|раз\w*|реже|чаще"
    r"|итог\w*|окончани\w*|конц\w*|начал\w*|следующ\w*|отчетн\w*|необходим\w*|мере|запрос\w*"
    r"|график\w*|план\w*|срок\w*|систематич\w*|регулярн\w*|всего|кажд\w*|весь|протяжени\w*"
    r"|основе|поквартальн\w*|помесячн\w*|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяею]"
    r"|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*)\b"
)
_REPORT_WORDS = re.compile(
    r"(?i)приказ|протокол|справк|отчет|\bплан\b|положени|программ|журнал|фото|сайт|аналитическ"
    r"|распоряжени|письм|реестр|база данных|\bакт\b"
)


def infer_columns(rows: list[list[str]], period: Period) -> dict[str, int] | None:
    """Columns by what their cells hold, for a table whose header says too little: a column
    of «1.1, 1.2» is the number, one of months and dates the deadline, one of roles and names
    the responsible, the longest text the title. None when no title and deadline are seen."""
    width = max((len(r) for r in rows), default=0)
    sample = [r + [""] * (width - len(r)) for r in rows[:80]]
    cells = [[r[c] for r in sample if r[c].strip()] for c in range(width)]

    def share(column: int, test: Any) -> float:
        values = cells[column]
        return sum(1 for v in values if test(v)) / len(values) if len(values) >= 2 else 0.0

    def dated(value: str) -> bool:
        if len(value) >= 90 or parse_deadline(value, period).kind == ScheduleKind.NONE:
            return False
        words = re.findall(r"[а-яa-z]{4,}", _DATE_WORDS.sub(" ", normalize(value)))
        return len(words) <= 2  # «Нефтекумский городской округ, 2023–2025» is no deadline

    def mean_length(column: int) -> float:
        return sum(map(len, cells[column])) / max(len(cells[column]), 1)

    found: dict[str, int] = {}
    numbers = [c for c in range(width) if share(c, _NUMBER_CELL.match) >= 0.6]
    if numbers:
        found["number"] = numbers[0]
    free = [c for c in range(width) if c not in found.values()]
    scored = sorted(((share(c, dated), -c) for c in free), reverse=True)
    if not scored or scored[0][0] < 0.5:
        return None
    found["deadline_text"] = -scored[0][1]
    free = [c for c in free if c != found["deadline_text"]]
    parties = sorted(
        ((share(c, lambda v: len(v) < 200 and _PARTY_WORDS.search(v)), -c) for c in free),
        reverse=True,
    )
    if parties and parties[0][0] >= 0.4:
        found["responsible_text"] = -parties[0][1]
        free = [c for c in free if c != found["responsible_text"]]
    texts = [c for c in free if mean_length(c) >= 12]
    if not texts:
        return None
    found["title"] = texts[0]
    rest = [c for c in free if c != texts[0] and cells[c]]
    if rest:
        report = max(rest, key=lambda c: (share(c, _REPORT_WORDS.search), -c))
        if share(report, _REPORT_WORDS.search) >= 0.5:
            found["report_form"] = report
            rest.remove(report)
    if rest:
        found["planned_result"] = rest[0]
        if len(rest) > 1 and "report_form" not in found:
            found["report_form"] = rest[1]
    return found


def _looks_like_data(cells: list[str], columns: dict[str, int], period: Period) -> bool:
    """Whether a table's first row is an activity (not a header nobody could read)."""

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    filled = [c for c in cells if c.strip()]
    if filled and filled == [str(n) for n in range(1, len(filled) + 1)]:
        return False  # the column numbers «1 2 3 4 5» under a Word table's header
    if "number" in columns:
        return bool(_NUMBER_CELL.match(cell("number")))
    return parse_deadline(cell("deadline_text"), period).kind != ScheduleKind.NONE


# --- preamble ------------------------------------------------------------------------------


def _order(paragraphs: list[str]) -> tuple[str | None, date | None]:
    """The approving order's number and date, read before its subject line."""
    head: list[str] = []
    for text in paragraphs:
        if re.match(r"(?i)^об утверждении", text):
            break
        head.append(text)
    number = when = None
    for text in head[:40]:
        if number is None and (m := re.search(r"№\s*-?\s*([\w/\-]*\d[\w/\-]*)", text)):
            number = m.group(1).strip("-")
        if when is None:
            when = _date_in(text)
    return number, when


def _date_in(text: str) -> date | None:
    if m := re.search(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})", text):
        day, month, year = map(int, m.groups())
    elif m := re.search(
        r"\b(\d{1,2})\s+(" + "|".join(GENITIVE_MONTHS) + r")\s+(\d{4})", text.lower()
    ):
        day, month, year = int(m.group(1)), GENITIVE_MONTHS.index(m.group(2)) + 1, int(m.group(3))
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_period(texts: list[str]) -> Period | None:
    """The roadmap period written in its title or order ("на 2023-2025 г.г.", "2023/2024")."""
    for text in texts:
        if m := re.search(
            r"(?i)период\W+(\d{2})\.(\d{2})\.(\d{4})\s*[-–—]\s*"
            r"(\d{2})\.(\d{2})\.(\d{4})",
            text,
        ):
            d1, m1, y1, d2, m2, y2 = map(int, m.groups())
            try:
                return Period(date(y1, m1, d1), date(y2, m2, d2))
            except ValueError:
                continue
    for text in texts:
        low = text.lower()
        if m := re.search(r"(20\d{2})\s*[/\-–—]\s*(20\d{2})\s*(?:уч\.|учебн)", low):
            return Period(date(int(m.group(1)), 9, 1), date(int(m.group(2)), 8, 31))
    for text in texts:
        low = text.lower()
        if m := re.search(r"(20\d{2})\s*[\-–—]\s*(20\d{2})", low):
            first, last = int(m.group(1)), int(m.group(2))
            if first <= last:
                return Period(date(first, 1, 1), date(last, 12, 31))
        if m := re.search(r"\bна\s+(20\d{2})\s*(?:год|г\b)", low):
            year = int(m.group(1))
            return Period(date(year, 1, 1), date(year, 12, 31))
    return None


def _title(paragraphs: list[str]) -> tuple[str | None, int]:
    """The plan's own heading with its continuation lines, and how many plans there are."""
    titles: list[str] = []
    index = 0
    while index < len(paragraphs):
        text = paragraphs[index]
        if _PLAN_TITLE.match(text):
            parts = [text]
            index += 1
            while (
                index < len(paragraphs)
                and re.match(r"^[а-яё(«\"]|^по\b|^в\b|^МО\b", paragraphs[index])
                and not (paragraphs[index].startswith("("))
            ):
                parts.append(paragraphs[index])
                index += 1
            titles.append(" ".join(parts))
            continue
        index += 1
    return (titles[0] if titles else None), len(titles)


# --- tables --------------------------------------------------------------------------------


@dataclass
class _Cursor:
    """What the reader remembers while walking the document."""

    columns: dict[str, int] | None = None
    width: int = 0
    part: str | None = None
    explicit_part: bool = False
    caption: str | None = None
    section_number: str | None = None
    section_title: str | None = None
    level: str | None = None
    last: DraftActivity | None = None
    counters: dict[tuple[str | None, str | None], int] = field(default_factory=dict)
    pending_section: tuple[str, str] | None = None


def recover(
    blocks: list[Block],
    source: str,
    period: Period | None = None,
    layout: Mapping[int, Mapping[str, int]] | None = None,
) -> RoadmapDraft:
    """Build a draft roadmap from the blocks of one document; raise DocumentError if none.
    `layout` gives the fields of the columns of some tables (by their order), as a
    coordinator corrected them."""
    paragraphs = [b.text for b in blocks if isinstance(b, Paragraph)]
    first_table = next((i for i, b in enumerate(blocks) if isinstance(b, Table)), len(blocks))
    preamble = [b.text for b in blocks[:first_table] if isinstance(b, Paragraph)]
    order_number, order_date = _order(preamble)
    plan_title, plans = _title(paragraphs)
    subject = next((p for p in paragraphs if re.match(r"(?i)^об утверждении", p)), None)
    if plans == 1 and plan_title:
        title = plan_title
    elif subject:
        rest = re.sub(r"(?i)^об утверждении\s+", "", subject)
        title = rest[:1].upper() + rest[1:]
    else:
        title = plan_title or (preamble[0] if preamble else source)
    warnings: list[DraftWarning] = []
    if period is None:
        period = find_period([title, *(paragraphs)])
    if period is None:
        year = (order_date or date.today()).year
        period = Period(date(year, 1, 1), date(year, 12, 31))
        warnings.append(
            DraftWarning(
                None,
                None,
                f"no period found in the document; using {year} (pass --period to set it)",
            )
        )
    draft = RoadmapDraft(
        source,
        re.sub(r"\s+", " ", title).strip(),
        order_number,
        order_date,
        period,
        warnings=warnings,
    )
    _read_tables(blocks, draft, layout or {})
    if not draft.activities:
        raise DocumentError(
            f"{source}: no roadmap table found (a table with «Мероприятие» and «Сроки» columns)"
        )
    recover_schedules(draft)
    draft.read_indicators(blocks)
    return draft


def recover_schedules(draft: RoadmapDraft) -> None:
    """Parse every activity's deadline within the draft's period, collecting the warnings."""
    for activity in draft.activities:
        activity.schedule = parse_deadline(activity.deadline_text, draft.period)
        for message in activity.schedule.warnings:
            draft.warnings.append(DraftWarning(activity.row, activity.number, message))


def _split_at_headers(blocks: list[Block]) -> list[Block]:
    """Spreadsheets hold several tables in one grid: split at every header row, and lift a
    one-cell row right above a header (its caption, or "Приложение №2") to a paragraph."""
    out: list[Block] = []
    for block in blocks:
        if not isinstance(block, Table):
            out.append(block)
            continue
        current = Table()
        for index, (cells, line, bold) in enumerate(
            zip(block.rows, block.lines, block.bold, strict=True)
        ):
            header = match_header(cells)
            if index and "title" in header and "deadline_text" in header:
                filled = [c for c in current.rows[-1] if c] if current.rows else []
                caption = None
                if len(filled) == 1 and not _SECTION_TEXT.match(filled[0]):
                    caption = filled[0]
                    for column in (current.rows, current.lines, current.bold):
                        column.pop()
                if current.rows:
                    out.append(current)
                if caption:
                    out.append(Paragraph(caption))
                current = Table()
            filled = [c for c in cells if c]
            if len(filled) == 1 and _PART.match(filled[0]):
                if current.rows:
                    out.append(current)
                out.append(Paragraph(filled[0]))
                current = Table()
                continue
            current.rows.append(cells)
            current.lines.append(line)
            current.bold.append(bold)
        if current.rows:
            out.append(current)
    return out


def _read_tables(
    blocks: list[Block], draft: RoadmapDraft, layout: Mapping[int, Mapping[str, int]]
) -> None:
    blocks = _split_at_headers(blocks)
    cursor = _Cursor()
    headed_tables: list[tuple[str | None, bool, list[DraftActivity]]] = []
    indicators_next = False
    for block in blocks:
        if isinstance(block, Paragraph):
            indicators_next = indicator_heading(block.text)
            _read_paragraph(block.text, cursor)
            continue
        rows = list(zip(block.rows, block.lines, block.bold, strict=True))
        if not rows or indicators_next:
            indicators_next = False  # the table of target indicators: not activities
            continue
        header = match_header(rows[0][0])
        headed = False
        if "title" in header and "deadline_text" in header:
            header = _name_the_rest(rows, header, draft)
        else:
            inferred = _by_content(rows, header, cursor, draft)
            if inferred is not None:
                header, skip_header = inferred
                if not skip_header:
                    rows = [([""] * len(rows[0][0]), rows[0][1], False), *rows]
        if "title" in header and len(draft.tables) in layout:
            header = _corrected(layout[len(draft.tables)], rows[0], draft)
        if "title" in header:
            draft.tables.append(TableLayout(rows[0][1], list(rows[0][0]), dict(header)))
            if "deadline_text" not in header:
                raise DocumentError(
                    f"{draft.source}: row {rows[0][1]}: the table has no deadline column "
                    "(«Сроки», «Срок исполнения»)"
                )
            cursor.columns, cursor.width = header, len(rows[0][0])
            cursor.level, cursor.last = None, None
            if cursor.pending_section is None:
                cursor.section_number = cursor.section_title = None
            headed_tables.append(
                (cursor.part if cursor.explicit_part else cursor.caption, cursor.explicit_part, [])
            )
            rows, headed = rows[1:], True
        elif cursor.columns is None:
            draft.warnings.append(
                DraftWarning(
                    rows[0][1],
                    None,
                    "a table without a recognizable header (no «Мероприятие» column) was skipped",
                )
            )
            continue
        elif not any(rows[0][0]):
            rows = rows[1:]  # the empty header of a table continued after a page break
        if cursor.pending_section is not None:
            cursor.section_number, cursor.section_title = cursor.pending_section
            cursor.pending_section = None
        collected = headed_tables[-1][2]
        page_break = not headed  # the first row of a table with no header may continue a cell
        for cells, line, bold in rows:
            activity = _read_row(cells, line, bold, cursor, draft, page_break)
            if activity is not None:
                collected.append(activity)
            if any(cells):
                page_break = False
        cursor.caption = None
    explicit = any(flag for _, flag, _ in headed_tables)
    for label, flag, activities in headed_tables:
        part = label if (flag or (not explicit and len(headed_tables) > 1)) else None
        for activity in activities:
            activity.part = part
    draft.activities = [a for _, _, acts in headed_tables for a in acts]
    _number_unnumbered(draft.activities)


def _corrected(
    columns: Mapping[str, int], header: tuple[list[str], int, bool], draft: RoadmapDraft
) -> dict[str, int]:
    """The fields a coordinator gave a table's columns, checked against the table."""
    width = len(header[0])
    wrong = [
        name for name, index in columns.items() if name not in FIELDS or not 0 <= index < width
    ]
    if wrong or len(set(columns.values())) != len(columns):
        raise DocumentError(
            f"{draft.source}: row {header[1]}: the corrected columns do not fit the table "
            f"of {width} columns"
        )
    missing = [name for name in ("title", "deadline_text") if name not in columns]
    if missing:
        raise DocumentError(
            f"{draft.source}: row {header[1]}: a roadmap table needs a column of "
            + " and ".join(
                {"title": "«Мероприятие»", "deadline_text": "«Сроки»"}[m] for m in missing
            )
        )
    return dict(columns)


def _name_the_rest(
    rows: list[tuple[list[str], int, bool]], header: dict[str, int], draft: RoadmapDraft
) -> dict[str, int]:
    """A header that names the title and the deadline but leaves a filled column unnamed
    («Итог»): the unnamed column's field by its content, where that field is still free."""
    named = set(header.values())
    unnamed = [i for i, cell in enumerate(rows[0][0]) if cell.strip() and i not in named]
    if not unnamed or len(rows) < 3:
        return header
    inferred = infer_columns([cells for cells, _, _ in rows[1:]], draft.period) or {}
    extra = {
        name: index
        for name, index in inferred.items()
        if index in unnamed
        and name not in header
        and name in ("responsible_text", "planned_result", "report_form")
    }
    return {**header, **extra}


def _by_content(
    rows: list[tuple[list[str], int, bool]],
    header: dict[str, int],
    cursor: _Cursor,
    draft: RoadmapDraft,
) -> tuple[dict[str, int], bool] | None:
    """Columns read from the cells when the header names no title or no deadline: (columns,
    whether the first row is a header to skip), or None to read the table as before (a
    continuation of the table above, or a table that is not a roadmap)."""
    width = max(len(r[0]) for r in rows)
    if not header and cursor.columns is not None and width == cursor.width:
        return None  # the same table, continued after a page break
    data = [cells for cells, _, _ in rows]
    inferred = infer_columns(data[1:] if len(data) > 2 else data, draft.period)
    if inferred is None or len([r for r in data if any(r)]) < 2:
        return None
    skip_header = not _looks_like_data(data[0], inferred, draft.period)
    if skip_header:  # the header's own words win where they say something
        taken = {index: name for name, index in header.items()}
        columns = {
            name: index
            for name, index in {**inferred, **header}.items()
            if taken.get(index, name) == name
        }
    else:  # a header word in an activity's text («результатов») made no header of it
        columns = inferred
    if "title" not in columns or "deadline_text" not in columns:
        return None
    names = ", ".join(
        f"{name}: column {index + 1}"
        for name, index in sorted(columns.items(), key=lambda item: item[1])
    )
    draft.warnings.append(
        DraftWarning(rows[0][1], None, f"columns recognized by their content ({names})")
    )
    return columns, skip_header


def _read_paragraph(text: str, cursor: _Cursor) -> None:
    if m := _PART.match(text):
        cursor.part = f"{m.group(1).capitalize()} {'№' if m.group(2) else ''}{m.group(3)}"
        cursor.explicit_part = True
        cursor.columns = None
        return
    if cursor.columns is not None and (m := _SECTION_TEXT.match(text)) and len(text) < 300:
        cursor.pending_section = (m.group(1), m.group(2).strip())
        return
    cursor.caption = text


def _fit(cells: list[str], cursor: _Cursor, line: int, draft: RoadmapDraft) -> list[str]:
    """Align a row with the header: shifted rows lose a merged column, extras are kept."""
    width = cursor.width
    cells = list(cells)
    assert cursor.columns is not None
    if len(cells) < width:
        for name in ("level", "number", "description"):
            if len(cells) < width and name in cursor.columns:
                cells.insert(cursor.columns[name], "")
        cells += [""] * (width - len(cells))
    if len(cells) > width:
        extra = [c for c in cells[width:] if c]
        cells = cells[:width]
        if extra:
            last = max(cursor.columns.values())
            cells[last] = "\n".join([cells[last], *extra]).strip()
            draft.warnings.append(
                DraftWarning(
                    line,
                    None,
                    f"row has {width + len(extra)} filled "
                    "cells for a header of "
                    f"{width}; the extra text was kept in the last "
                    "column",
                )
            )
    return cells


def _read_row(
    cells: list[str], line: int, bold: bool, cursor: _Cursor, draft: RoadmapDraft, page_break: bool
) -> DraftActivity | None:
    """Apply one table row: a section header, a new activity, or a continuation."""
    if not any(cells):
        return None
    columns = cursor.columns
    assert columns is not None
    cells = _fit(cells, cursor, line, draft)
    value = {name: cells[index] for name, index in columns.items()}
    filled = [c for c in cells if c]
    number = value.get("number", "")
    title = value.get("title", "")
    deadline_text = value.get("deadline_text", "")
    if "number" not in columns and (written := _NUMBERED_TITLE.match(title)):
        number, title = written.group(1), written.group(2)  # «1.2. Проведение …»: keep 1.2
        value["title"] = title

    heading = bold or (
        not page_break
        and "number" in columns
        and not number
        and filled == [title]
        and title[:1].isupper()
        and len(title) < 200
    )  # «Работа с педагогами» alone in a numbered table, its activities below keep their numbers
    section = _section(cells, value, filled, heading)
    if section is not None:
        cursor.section_number, cursor.section_title = section
        cursor.last = None
        return None
    if "number" in columns or number:
        is_new = bool(_NUMBER.match(number))
        if number and not is_new:
            draft.warnings.append(
                DraftWarning(
                    line,
                    None,
                    f"unexpected text in the number column: {number!r}; read as a continuation",
                )
            )
    else:
        others = [c for name, c in value.items() if name != "title" and c]
        continues_title = bool(title) and title[:1].islower() and not others
        is_new = bool(title) and not continues_title
        if not title and not cursor.last:
            is_new = True
    if not is_new and cursor.last is not None:
        _continue(cursor.last, value)
        return None
    level = value.get("level") or None
    if "level" in columns:
        if level:
            cursor.level = level
        level = cursor.level
    activity = DraftActivity(
        part=None,
        section_number=cursor.section_number,
        section_title=cursor.section_title,
        number=number.rstrip("."),
        title=title,
        row=line,
        description=value.get("description") or None,
        level=level,
        deadline_text=deadline_text,
        responsible_text=value.get("responsible_text") or None,
        planned_result=value.get("planned_result") or None,
        report_form=value.get("report_form") or None,
    )
    if not title:
        draft.warnings.append(DraftWarning(line, activity.number or None, "activity has no title"))
    cursor.last = activity
    return activity


def _section(
    cells: list[str], value: dict[str, str], filled: list[str], bold: bool
) -> tuple[str | None, str] | None:
    """(number, title) when the row is a section header, else None."""
    number = value.get("number", "")
    if value.get("deadline_text"):
        return None
    if number and re.fullmatch(r"\d+\.?", number) and len(filled) == 2:
        text = next(c for c in filled if c != number)
        return number.rstrip("."), text
    if len(filled) == 1 and not _NUMBER.match(filled[0]):
        text = filled[0]
        m = _SECTION_TEXT.match(text)
        if bold or (m and text[len(m.group(1)) :].lstrip(". ")[:1].isupper()):
            if m:
                return m.group(1), m.group(2).strip()
            return None, text
    return None


_JOIN_FIELDS = (
    "title",
    "description",
    "deadline_text",
    "responsible_text",
    "planned_result",
    "report_form",
)


def _continue(activity: DraftActivity, value: dict[str, str]) -> None:
    """Append the text of a continuation row to the activity above it."""
    for name in _JOIN_FIELDS:
        text = value.get(name)
        if not text:
            continue
        current = getattr(activity, name) or ""
        # a cell that already holds several lines was split by the page: keep the lines apart
        joint = "\n" if "\n" in current else " "
        setattr(activity, name, f"{current}{joint}{text}" if current else text)


def _number_unnumbered(activities: list[DraftActivity]) -> None:
    """Give activities of tables without a number column numbers like "2.3" by section."""
    counters: dict[tuple[str | None, str | None], int] = {}
    for activity in activities:
        key = (activity.part, activity.section_number or activity.section_title)
        counters[key] = counters.get(key, 0) + 1
        if not activity.number:
            prefix = f"{activity.section_number}." if activity.section_number else ""
            activity.number = f"{prefix}{counters[key]}"
