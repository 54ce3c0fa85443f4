"""Target indicators: the roadmap's list or table of «целевые показатели», and planned results
that state a number («не менее 90 % педагогов»). The raw text is always kept; what cannot be
read is a warning, never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from engine.deadlines.parser import Period, ScheduleKind, parse_deadline
from engine.errors import N_, ValidationError
from engine.importing.parties import is_school_party
from engine.importing.sources import Block, Paragraph, Table, clean_cell
from engine.models import IndicatorDirection, IndicatorScope

if TYPE_CHECKING:
    from engine.importing.structure import DraftActivity

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_UNIT = (
    r"\s*(%|процент\w*|балл\w*|чел\.?|человек\w*|педагог\w*|учител\w*|обучающ\w*|школ\w*"
    r"|ОО\b|ОУ\b|организаци\w*|учреждени\w*)?"
)
#: The largest value a target or a baseline may have.
LARGEST = 1e9

#: The units an indicator's value may have (None: a plain count or an index).
UNITS = ("%", "people", "schools", "points")
#: How a target is written: «не менее 80 %», «рост на 5 балл.» (Russian, as the documents
#: say it; the web translates the same words).
DIRECTION_WORDS = {
    IndicatorDirection.AT_LEAST: N_("не менее"),
    IndicatorDirection.AT_MOST: N_("не более"),
    IndicatorDirection.EXACTLY: N_("ровно"),
    IndicatorDirection.INCREASE_BY: N_("рост на"),
    IndicatorDirection.DECREASE_BY: N_("снижение на"),
}
UNIT_WORDS = {"%": "%", "people": N_("чел."), "schools": N_("ОО"), "points": N_("балл.")}
_UNITS = (
    ("%", r"^(%|процент)"),
    ("points", r"^балл"),
    ("people", r"^(чел|педагог|учител|обучающ)"),
    ("schools", r"^(школ|оо$|оу$|организаци|учреждени)"),
)
_RAISE = r"(увелич|повыш|рост|прирост|улучш|достиж|доведени)"
_LOWER = r"(сниж|уменьш|сокращ)"
#: A date, a year, a number of a school: numbers that are never targets.
_NOT_A_VALUE = re.compile(
    r"\d{1,2}\s+(?i:январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр"
    r"|числ|раз\b|квартал|полугоди|класс|этап)\w*|\d{1,2}\.\d{1,2}\.\d{2,4}|№\s*\d+|\b(19|20)\d{2}\s*(г\.?|год\w*|-\s*(19|20)?\d{2})?"
    r"|\b(19|20)\d{2}\b|[А-ЯA-Z]{2,}-\d+"
)
#: The phrase that says by when: «к 01.10.2023», «ежегодно», «к 2025 году».
_DUE = re.compile(
    r"(?i)(?:\b(?:к|до|на)\s+)?\d{1,2}\.\d{1,2}\.\d{2,4}(?:\s*г\.?)?"
    r"|\b(?:к|в|до)\s+20\d{2}\s*(?:г\.?|год\w*)|\b(ежегодно|ежеквартально|ежемесячно|"
    r"по полугодиям|каждое полугодие|ежегодн\w*)"
)
_HEADING = re.compile(r"(?i)^(\d+[.)]?\s*)?целев\w*\s+(показател|индикатор)")
_ITEM = re.compile(r"^\s*(?:(\d{1,2}(?:\.\d{1,2})*)[.)]|[-–—•·*])\s+(\S.*)$", re.S)
_SCHOOL_LEVEL = re.compile(r"(?i)институц|школьн|уровень оо|уровень школ")


@dataclass(frozen=True)
class Target:
    """A target value: what number, in what unit, in which direction."""

    value: float
    unit: str | None
    direction: IndicatorDirection

    def to_dict(self) -> dict[str, Any]:
        return {"value": _plain(self.value), "unit": self.unit, "direction": str(self.direction)}


@dataclass
class DraftIndicator:
    """One indicator as read, before it touches the database."""

    number: str | None
    title: str
    text: str
    target: Target | None
    due: list[date]
    due_text: str | None
    scope: IndicatorScope
    baseline: float | None = None
    activity: str | None = None
    row: int | None = None
    #: The activity whose planned result states it (not part of the JSON).
    source: DraftActivity | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The indicator in the dry-run JSON contract."""
        return {
            "number": self.number,
            "title": self.title,
            "text": self.text,
            "target": self.target.to_dict() if self.target else None,
            "baseline": _plain(self.baseline) if self.baseline is not None else None,
            "due": [d.isoformat() for d in self.due],
            "scope": str(self.scope),
            "activity": self.activity,
        }


@dataclass
class Reading:
    """What one text says as a target, and what the reader could not settle."""

    target: Target | None
    baseline: float | None = None
    warnings: list[str] = field(default_factory=list)


def checked_value(name: str, value: float) -> float:
    """`value`, if it is a finite number within ±LARGEST; else a ValidationError."""
    if not math.isfinite(value) or abs(value) > LARGEST:
        raise ValidationError(f"the {name} must lie within ±{LARGEST:.0e}", reason="not_a_number")
    return value


def read_number(name: str, text: str) -> float | None:
    """A number as people type it («12,5», «80 %», «1 200»); None for a blank, else a
    ValidationError naming `name`."""
    text = text.strip().replace(",", ".").replace(" ", "").replace("\u00a0", "").rstrip("%")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(
            f"the {name.replace('_', ' ')} is not a number: {text[:40]!r}", reason="not_a_number"
        ) from None
    return checked_value(name.replace("_", " "), value)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _unit(word: str | None) -> str | None:
    low = (word or "").lower()
    return next((name for name, pattern in _UNITS if low and re.match(pattern, low)), None)


def _value(text: str) -> float:
    return float(text.replace(",", "."))


def read_target(text: str) -> Reading:
    """The target a text states: «до 80%» after «увеличение» is at least 80 %, «на 5 %» after
    «повышение» an increase by 5 %, «не более 10 %» at most 10 %, a bare «100%» exactly 100 %."""
    plain = _NOT_A_VALUE.sub(lambda m: " " * len(m.group(0)), text)
    low = plain.lower().replace("ё", "е")
    found: list[tuple[int, Target]] = []
    taken: list[tuple[int, int]] = []
    baseline = None

    def add(match: re.Match[str], direction: IndicatorDirection, number: int = 1) -> None:
        span = match.span()
        if any(start < span[1] and span[0] < end for start, end in taken):
            return
        taken.append(span)
        value = _value(match.group(number))
        if value > LARGEST:
            return  # a phone number or a register's id, not a target
        found.append((span[0], Target(value, _unit(match.group(number + 1)), direction)))

    if m := re.search(rf"\bс\s+{_NUMBER}\s*%?\s*до\s+{_NUMBER}{_UNIT}", low):
        baseline = _value(m.group(1))
        before = low[: m.start()]
        lowering = re.search(_LOWER, before) and not re.search(_RAISE, before)
        direction = IndicatorDirection.AT_MOST if lowering else IndicatorDirection.AT_LEAST
        add(m, direction, 2)
    for pattern, direction in (
        (rf"не\s+(?:менее|ниже|меньше)\s+(?:чем\s+)?{_NUMBER}{_UNIT}", IndicatorDirection.AT_LEAST),
        (rf"(?:минимум|≥)\s*{_NUMBER}{_UNIT}", IndicatorDirection.AT_LEAST),
        (rf"не\s+(?:более|выше|больше)\s+(?:чем\s+)?{_NUMBER}{_UNIT}", IndicatorDirection.AT_MOST),
        (rf"(?:максимум|≤)\s*{_NUMBER}{_UNIT}", IndicatorDirection.AT_MOST),
    ):
        for m in re.finditer(pattern, low):
            add(m, direction)
    for m in re.finditer(rf"\b(на|до)\s+{_NUMBER}{_UNIT}", low):
        before = low[: m.start()]
        lowering = bool(re.search(_LOWER, before)) and not re.search(_RAISE, before[-60:])
        if not (lowering or re.search(_RAISE, before)) and (
            m.group(1) == "на" or m.group(3) is None
        ):
            continue  # «выполнение плана на 100%» is a bare value, «до 3» no target
        if m.group(1) == "на":
            by = IndicatorDirection.DECREASE_BY if lowering else IndicatorDirection.INCREASE_BY
            add(m, by, 2)
        else:
            add(m, IndicatorDirection.AT_MOST if lowering else IndicatorDirection.AT_LEAST, 2)
    for m in re.finditer(rf"(?<![\d.,]){_NUMBER}{_UNIT}", low):
        if _unit(m.group(2)) in ("%", "points") or (
            m.group(2) and re.search(r"[–—-]\s*$", low[: m.start()])
        ):
            add(m, IndicatorDirection.EXACTLY)
    found.sort(key=lambda item: item[0])
    reading = Reading(found[0][1] if found else None, baseline)
    if len(found) > 1:
        others = ", ".join(_shown(t) for _, t in found[1:])
        reading.warnings.append(
            f"the text states {len(found)} targets; the first ({_shown(found[0][1])}) is "
            f"taken, not {others}: split the indicator when editing the roadmap"
        )
    return reading


def read_cell(text: str) -> Reading:
    """A table cell's value: what `read_target` reads, or a cell that holds only a number
    with its unit («25 человек», «10»)."""
    reading = read_target(text)
    if reading.target is None and (m := re.fullmatch(rf"\s*{_NUMBER}{_UNIT}\s*", text.lower())):
        reading.target = Target(_value(m.group(1)), _unit(m.group(2)), IndicatorDirection.EXACTLY)
    return reading


def plain_number(value: float) -> str:
    """80.0 → «80», 12.5 → «12,5»."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def target_words(
    value: float,
    unit: str | None,
    direction: str | None,
    translate: Callable[[str], str] = str,
) -> str:
    """A target as people write it: «не менее 80 %»; a bare value for «exactly»; it reads
    back as the same target."""
    words = []
    if direction in DIRECTION_WORDS and direction != IndicatorDirection.EXACTLY:
        words.append(translate(DIRECTION_WORDS[IndicatorDirection(direction)]))
    words.append(plain_number(value))
    if unit:
        words.append("%" if unit == "%" else translate(UNIT_WORDS.get(unit, unit)))
    return " ".join(words)


def indicator_heading(text: str) -> bool:
    """Whether a paragraph heads the roadmap's list or table of target indicators."""
    return bool(_HEADING.match(text.strip()))


def _shown(target: Target) -> str:
    unit = {"%": " %", None: ""}.get(target.unit, f" {target.unit}")
    return f"{_plain(target.value)}{unit}"


def parse_due(phrase: str, period: Period) -> list[date] | None:
    """The dates a due phrase names («к 01.10.2023», «ежегодно»), None when it names none."""
    schedule = parse_deadline(re.sub(r"(?i)^(к|на)\s+", "", phrase.strip()), period)
    if schedule.kind in (ScheduleKind.NONE, ScheduleKind.ON_DEMAND) or not schedule.due:
        return None
    return list(schedule.due)


def read_due(text: str, period: Period) -> tuple[list[date], str | None]:
    """The dates an indicator is due by, and the phrase that says so; the roadmap's end when
    the text names none («на 2023–2025 годы» means by its end)."""
    m = _DUE.search(text)
    if m is None:
        return [period.end], None
    phrase = m.group(0).strip()
    return parse_due(phrase, period) or [period.end], phrase


def _clean_title(text: str) -> str:
    if m := _ITEM.match(text):
        text = m.group(2)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"[\s.;,]+$", "", text)


@dataclass
class Found:
    """Indicators read from a document, and the warnings the reading raised."""

    indicators: list[DraftIndicator] = field(default_factory=list)
    warnings: list[tuple[int | None, str | None, str]] = field(default_factory=list)


def _indicator(
    found: Found,
    number: str | None,
    text: str,
    period: Period,
    scope: IndicatorScope,
    *,
    activity: str | None = None,
    row: int | None = None,
    reading: Reading | None = None,
    source: DraftActivity | None = None,
) -> DraftIndicator:
    reading = reading or read_target(text)
    due, phrase = read_due(text, period)
    which = "" if activity else f"indicator {number or _clean_title(text)[:40]}: "
    for message in reading.warnings:
        found.warnings.append((row, activity, which + message))
    if reading.target is None:
        found.warnings.append(
            (row, activity, f"{which}no target value could be read; set it on the roadmap page")
        )
    indicator = DraftIndicator(
        number,
        _clean_title(text),
        text.strip(),
        reading.target,
        due,
        phrase,
        scope,
        reading.baseline,
        activity,
        row,
        source,
    )
    found.indicators.append(indicator)
    return indicator


def from_blocks(blocks: list[Block], period: Period) -> Found:
    """The indicators the document lists under a «Целевые показатели» heading, as numbered or
    bulleted paragraphs or as a table."""
    found = Found()
    for index, block in enumerate(blocks):
        if not (isinstance(block, Paragraph) and indicator_heading(block.text)):
            continue
        following = blocks[index + 1 : index + 60]
        if following and isinstance(following[0], Table):
            _from_table(found, following[0], period)
            continue
        for position, item in enumerate(following, start=1):
            if not isinstance(item, Paragraph) or item.heading:
                break
            m = _ITEM.match(item.text)
            if m is None:
                break
            number = m.group(1) or str(position)
            _indicator(found, number, item.text, period, IndicatorScope.MUNICIPALITY)
    return found


_TABLE_FIELDS = (
    ("number", r"^№|^n\b|^номер"),
    ("baseline", r"базов|исходн"),
    ("target", r"целев\w* знач|планов|целев\w* показател\w* \(|^значени|^целевое"),
    ("unit", r"^ед|единиц"),
    ("due", r"^срок|^дата|^год"),
    ("title", r"наименовани|показател|индикатор"),
)


def _from_table(found: Found, table: Table, period: Period) -> None:
    header = [c.lower() for c in table.rows[0]] if table.rows else []
    columns: dict[str, int] = {}
    for name, pattern in _TABLE_FIELDS:
        for index, heading in enumerate(header):
            if index not in columns.values() and re.search(pattern, heading):
                columns.setdefault(name, index)
    if "title" not in columns:
        found.warnings.append(
            (
                table.lines[0] if table.lines else None,
                None,
                "a table of indicators without a "
                "column of their names («Наименование показателя») was left out",
            )
        )
        return
    for cells, line in zip(table.rows[1:], table.lines[1:], strict=False):

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return clean_cell(cells[index]) if index is not None and index < len(cells) else ""

        title = cell("title")
        if not title:
            continue
        target_text = " ".join(p for p in (cell("target"), cell("unit")) if p)
        indicator = _indicator(
            found,
            cell("number").rstrip(".") or None,
            title,
            period,
            IndicatorScope.MUNICIPALITY,
            row=line,
            reading=read_cell(target_text) if target_text else None,
        )
        indicator.text = " | ".join(p for p in (title, target_text) if p)
        if indicator.target and indicator.target.direction == IndicatorDirection.EXACTLY:
            indicator.target = Target(
                indicator.target.value, indicator.target.unit, _direction_of(title)
            )
        if baseline := cell("baseline"):
            base = read_cell(baseline).target
            indicator.baseline = base.value if base else indicator.baseline
        if due := cell("due"):
            indicator.due_text = due
            indicator.due = parse_due(due, period) or indicator.due


def _direction_of(title: str) -> IndicatorDirection:
    """The direction a table's bare target value has, from its title's verb."""
    low = title.lower()
    if re.search(_LOWER, low):
        return IndicatorDirection.AT_MOST
    if re.search(rf"{_RAISE}|доля|количеств|числ", low):
        return IndicatorDirection.AT_LEAST
    return IndicatorDirection.EXACTLY


def names_school(level: str | None, parties: list[str]) -> bool:
    """Whether an activity is each school's work: its level says so, or a party is schools."""
    if level:
        return bool(_SCHOOL_LEVEL.search(level))
    return any(is_school_party(p) for p in parties)


def from_results(activities: Sequence[DraftActivity], period: Period) -> Found:
    """The indicators that planned results state («не менее 90 % педагогов»), one per activity
    whose result holds a target; a result without a number is no indicator."""
    found = Found()
    for activity in activities:
        text = activity.planned_result or ""
        reading = read_target(text)
        if not reading.target:
            continue
        school = names_school(activity.level, activity.responsible_parties())
        _indicator(
            found,
            activity.number,
            text,
            period,
            IndicatorScope.SCHOOL if school else IndicatorScope.MUNICIPALITY,
            activity=activity.number,
            row=activity.row,
            reading=reading,
            source=activity,
        )
    return found
