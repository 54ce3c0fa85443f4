"""Russian deadline expressions ("до 31 мая", "ежеквартально", "весь период") as schedules.

Pure functions, no I/O. `parse_deadline` never raises: what it cannot read becomes a
schedule of kind `none` with a warning, and the original text is always kept.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import holidays


class ScheduleKind(StrEnum):
    """The six shapes a deadline can take."""

    DATE = "date"
    RANGE = "range"
    RECURRING = "recurring"
    CONTINUOUS = "continuous"
    ON_DEMAND = "on_demand"
    NONE = "none"


@dataclass(frozen=True)
class Period:
    """The roadmap's period, inclusive."""

    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Schedule:
    """A parsed deadline: its kind, its window start (if any) and every due date."""

    text: str
    kind: ScheduleKind
    start: date | None = None
    due: tuple[date, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape used by the importer's dry run and by `Activity.schedule`."""
        return {
            "text": self.text,
            "kind": str(self.kind),
            "start": self.start.isoformat() if self.start else None,
            "due": [d.isoformat() for d in self.due],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        """Inverse of `to_dict`."""
        start = data.get("start")
        return cls(
            text=data.get("text", ""),
            kind=ScheduleKind(data["kind"]),
            start=date.fromisoformat(start) if start else None,
            due=tuple(date.fromisoformat(d) for d in data.get("due", [])),
        )


# --- words ---------------------------------------------------------------------------------

#: Month names as dates are written: «7 апреля 2023 года».
GENITIVE_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)

#: Months by their first three letters ("мар" before "ма", which is May).
_MONTHS = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
    "ма": 5,
}
#: A month in any case («май», «мая», «мае», «маем») or abbreviated («сент.», «окт»).
_MONTH_RE = (
    r"(?:январ(?:ь|я|е|ю|ем)|феврал(?:ь|я|е|ю|ем)|март(?:а|е|у|ом)?|апрел(?:ь|я|е|ю|ем)"
    r"|ма(?:й|я|е|ю|ем)|июн(?:ь|я|е|ю|ем)|июл(?:ь|я|е|ю|ем)|август(?:а|е|у|ом)?"
    r"|сентябр(?:ь|я|е|ю|ем)|октябр(?:ь|я|е|ю|ем)|ноябр(?:ь|я|е|ю|ем)|декабр(?:ь|я|е|ю|ем)"
    r"|янв|февр?|мар|апр|авг|сент?|окт|нояб?|дек)"
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}

_CONTINUOUS = re.compile(
    r"весь период|в течени[еи]|постоянно|систематически|на протяжении|ежедневно"
    r"|в течение всего|на постоянной основе|регулярно"
)
_ON_DEMAND = re.compile(
    r"по графику|по плану|по мере|по запросу|после\b|по необходимости|в период действия"
    r"|в период после|по отдельному|в соответствии с|по согласованию|в сроки|по итогам"
    r"|по результатам|при наличии|по решению|в установленные"
)

# --- normalization -------------------------------------------------------------------------


#: Endings of an ordinal adjective («первый», «второго», «четвертой»), never of «четверть».
_ADJ = r"(?:ый|ой|ий|ого|его|ому|ему|ым|им|ом|ем|ая|яя|ую|юю|ое|ее|ые|ие|ых|их|ыми|ими)"
#: Number words, in any case, as digits: «во втором полугодии» → «во 2 полугодии».
_NUMBER_WORDS = (
    (rf"\bперв{_ADJ}\b", "1"),
    (rf"\bвтор{_ADJ}\b", "2"),
    (r"\bтрет(?:ий|ьего|ьему|ьим|ьем|ья|ьей|ью|ье|ьи|ьих|ьими)\b", "3"),
    (rf"\bчетверт{_ADJ}\b", "4"),
    (r"\bдважды\b", "2 раза"),
    (r"\bтрижды\b", "3 раза"),
    (r"\b(?:один|одного|одну|одним)\s+(?=раз)", "1 "),
    (r"\b(?:два|двух|двум)\s+(?=раз)", "2 "),
    (r"\b(?:три|трех|трем)\s+(?=раз)", "3 "),
    (r"\b(?:четыре|четырех)\s+(?=раз)", "4 "),
    (r"(\d)\s*-?\s*х\b", r"\1"),  # «2-х раз»
)


def _school_year(match: re.Match[str]) -> str:
    """«к началу 2024/2025 учебного года» → «к 1 сентября 2024»; «до конца учебного года» →
    «до 31 мая»."""
    first, second = match.group("ay1"), match.group("ay2")
    if match.group("edge").startswith("нач"):
        return f"1 сентября {first}" if first else "1 сентября"
    return f"31 мая {second}" if second else "31 мая"


def normalize(text: str) -> str:
    """Lower-case, unify dashes, quotes and numeric dates, write number words as digits,
    split glued digits and words, drop "г."."""
    s = text.lower().replace("ё", "е")
    s = re.sub(r"<br\s*/?>|<[^>]+>", " ; ", s)
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)
    s = re.sub(r"\b((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})\b", r"\3.\2.\1", s)  # ISO
    s = re.sub(r"\b(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\b", r"\1.\2.\3", s)
    s = re.sub(r"(\d)([а-я])", r"\1 \2", s)
    s = re.sub(r"([а-я])(\d)", r"\1 \2", s)
    for pattern, digits in _NUMBER_WORDS:
        s = re.sub(pattern, digits, s)
    s = re.sub(  # «2023-2024 учебный год», «2023/24 уч. г.»
        r"\b((?:19|20)\d{2})\s*[-/]\s*((?:19|20)\d{2}|\d{2})\b(?=\s*(?:гг?\.?\s*)?уч)",
        lambda m: (
            f"{m.group(1)}/{m.group(2) if len(m.group(2)) == 4 else m.group(1)[:2] + m.group(2)}"
        ),
        s,
    )
    s = re.sub(r"(\d)\s*г\.\s*г\.?", r"\1 ", s)
    s = re.sub(r"(\d)\s*(?:гг|г|года|год|году|годах|годы)\b\.?", r"\1 ", s)
    s = re.sub(
        r"(?P<edge>начал\w*|старт\w*|конц\w*|окончани\w*|завершени\w*)\s+"
        r"(?:(?P<ay1>\d{4})/(?P<ay2>\d{4})\s*)?(?:учебн\w*|уч\.?)\s*(?:год\w*|г\b\.?)",
        _school_year,
        s,
    )
    s = re.sub(r"\b(?:конц\w*|окончани\w*)\s+((?:19|20)\d{2})\b", r"31 декабря \1", s)
    s = re.sub(r"\b(?:конц\w*|окончани\w*)\s+(?:календарн\w*\s+)?года?\b", "31 декабря", s)
    s = re.sub(r"\s+", " ", s)
    return s.strip(" .;,")


# --- dates ---------------------------------------------------------------------------------


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(max(day, 1), calendar.monthrange(year, month)[1]))


def _month_number(word: str) -> int:
    for stem, number in _MONTHS.items():
        if word.startswith(stem):
            return number
    raise ValueError(word)


#: School terms (четверти) by number: (first month, first day), (last month, last day).
_TERMS = {1: ((9, 1), (10, 31)), 2: ((11, 1), (12, 31)), 3: ((1, 1), (3, 31)), 4: ((4, 1), (5, 31))}


@dataclass
class _Point:
    """One date-ish token: a day, a month, a quarter, a half-year, a school term or a year."""

    unit: str  # "day" | "month" | "quarter" | "half" | "term" | "year"
    year: int | None
    month: int = 1
    day: int = 1
    number: int = 1  # quarter, half or term number

    def bounds(self, year: int) -> tuple[date, date]:
        if self.unit == "day":
            day = _clamped(year, self.month, self.day)
            return day, day
        if self.unit == "month":
            return date(year, self.month, 1), month_end(year, self.month)
        if self.unit == "quarter":
            first = 3 * (self.number - 1) + 1
            return date(year, first, 1), month_end(year, first + 2)
        if self.unit == "half":
            first = 6 * (self.number - 1) + 1
            return date(year, first, 1), month_end(year, first + 5)
        if self.unit == "term":
            (m1, d1), (m2, d2) = _TERMS[self.number]
            return date(year, m1, d1), date(year, m2, d2)
        return date(year, 1, 1), date(year, 12, 31)

    @property
    def month_key(self) -> int:
        """Calendar order inside a year, for deciding when a range crosses New Year."""
        if self.unit == "quarter":
            return 3 * (self.number - 1) + 1
        if self.unit == "half":
            return 6 * (self.number - 1) + 1
        if self.unit == "term":
            return _TERMS[self.number][0][0]
        return self.month


_YEAR = r"(?:19|20)\d{2}"
_TOKEN = re.compile(
    r"(?P<dmy>\b(?P<d1>\d{1,2})\.(?P<m1>\d{1,2})\.(?P<y1>\d{4}|\d{2})\b)"
    r"|(?P<my>\b(?P<m7>\d{1,2})\.(?P<y9>" + _YEAR + r")\b)"
    r"|(?P<dmn>\b(?P<d5>\d{1,2})\.(?P<m5>\d{2})\b(?!\.\d))"
    r"|(?P<dd>\b(?P<d3>\d{1,2})\s*(?:-|по)\s*(?P<d4>\d{1,2})\s*(?P<mon3>" + _MONTH_RE + r")\b\.?"
    r"(?:\s*,?\s*(?P<y8>" + _YEAR + r")\b)?)"
    r"|(?P<dm>\b(?P<d2>\d{1,2})\s*(?P<mon2>"
    + _MONTH_RE
    + r")\b\.?(?:\s*,?\s*(?P<y2>"
    + _YEAR
    + r")\b)?)"
    r"|(?P<q>\b(?P<qn>iv|i{1,3}|[1-4])(?:\s*-\s*(?P<qn2>iv|i{1,3}|[1-4]))?\s*-?\s*(?:кв\b\.?|квартал[а-я]*)"
    r"(?:\s*\((?P<qmon>" + _MONTH_RE + r")\))?(?:\s*,?\s*(?P<y3>" + _YEAR + r")\b)?)"
    r"|(?P<h>\b(?P<hn>i{1,2}|[12])\s*-?\s*(?:полугоди[а-я]*|половин[а-я]*(?:\s+года?\b)?)"
    r"(?:\s*,?\s*(?P<y4>" + _YEAR + r")\b)?)"
    r"|(?P<t>\b(?P<tn>iv|i{1,3}|[1-4])\s*-?\s*(?:я\s+)?четверт[а-я]*"
    r"(?:\s*,?\s*(?P<y10>" + _YEAR + r")\b)?)"
    r"|(?P<m>\b(?P<mon5>" + _MONTH_RE + r")\b\.?(?:\s*,?\s*(?P<y5>" + _YEAR + r")\b)?)"
    r"|(?P<y>\b(?P<y6>" + _YEAR + r")\b(?:\s*/\s*(?P<y7>" + _YEAR + r"))?)"
    r"|(?P<from>\bс\b)|(?P<to>\b(?:по|до)\b)"
    r"|(?P<sep>\s-\s|-|,|;|\bи\b)"
)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


def _tokens(s: str) -> list[Any]:
    """Date points and separators ('-' for ranges, ',' for lists, 'с' … 'по' for a range
    written in words) in reading order."""
    out: list[Any] = []
    for match in _TOKEN.finditer(s):
        g = match.groupdict()
        if g["dmy"] or g["dmn"]:
            day, month = int(g["d1"] or g["d5"]), int(g["m1"] or g["m5"])
            if 1 <= month <= 12 and 1 <= day <= 31:
                out.append(_Point("day", _year(g["y1"]), month, day))
        elif g["my"]:
            if 1 <= (month := int(g["m7"])) <= 12:
                out.append(_Point("month", int(g["y9"]), month))
        elif g["dd"]:
            month, year = _month_number(g["mon3"]), _year(g["y8"])
            out += [
                _Point("day", year, month, int(g["d3"])),
                "-",
                _Point("day", year, month, int(g["d4"])),
            ]
        elif g["dm"]:
            out.append(_Point("day", _year(g["y2"]), _month_number(g["mon2"]), int(g["d2"])))
        elif g["q"]:
            year = _year(g["y3"])
            if g["qmon"]:
                out.append(_Point("month", year, _month_number(g["qmon"])))
            elif g["qn2"]:
                out += [
                    _Point("quarter", year, number=_ROMAN[g["qn"]]),
                    "-",
                    _Point("quarter", year, number=_ROMAN[g["qn2"]]),
                ]
            else:
                out.append(_Point("quarter", year, number=_ROMAN[g["qn"]]))
        elif g["h"]:
            out.append(_Point("half", _year(g["y4"]), number=_ROMAN[g["hn"]]))
        elif g["t"]:
            out.append(_Point("term", _year(g["y10"]), number=_ROMAN[g["tn"]]))
        elif g["m"]:
            out.append(_Point("month", _year(g["y5"]), _month_number(g["mon5"])))
        elif g["y"]:
            if g["y7"]:  # "2023/2024" academic year
                out += [_Point("month", int(g["y6"]), 9), "-", _Point("month", int(g["y7"]), 8)]
            else:
                out.append(_Point("year", int(g["y6"])))
        elif g["from"]:
            out.append("с")
        elif g["to"]:
            out.append("по")
        else:
            sep = g["sep"].strip()
            out.append("-" if sep == "-" else ",")
    return out


@dataclass
class _Window:
    """A list item: one point, or a range between two points."""

    first: _Point
    last: _Point


def _windows(tokens: list[Any]) -> list[_Window]:
    """Group tokens into list items; a bare year after a point repeats it in that year."""
    windows: list[_Window] = []
    pending_range = False
    opened: _Window | None = None  # the window right after «с», which «по» or «до» closes
    after_from = False
    for token in tokens:
        if token == "с":
            after_from = True
            continue
        if token == "по":
            pending_range = bool(windows) and windows[-1] is opened
            continue
        if token == "-":
            pending_range = bool(windows)
            continue
        if token == ",":
            pending_range = after_from = False
            continue
        if pending_range:
            windows[-1].last = token
            pending_range = False
        elif token.unit == "year" and windows and windows[-1].last.unit != "year":
            template = windows[-1]
            windows.append(
                _Window(
                    _with_year(template.first, token.year), _with_year(template.last, token.year)
                )
            )
        else:
            windows.append(_Window(token, token))
            opened = windows[-1] if after_from else None
        after_from = False
    _share_years(windows)
    return windows


def _with_year(point: _Point, year: int | None) -> _Point:
    return _Point(point.unit, year, point.month, point.day, point.number)


def _share_years(windows: list[_Window]) -> None:
    """Give yearless points the year written after them ("25 апреля – 1 июня 2022")."""
    following: int | None = None
    for window in reversed(windows):
        if window.last.year is None:
            window.last.year = following
        if window.first.year is None and window.last.year is not None:
            crosses = window.first.month_key > window.last.month_key
            window.first.year = window.last.year - 1 if crosses else window.last.year
        following = window.first.year if window.first.year is not None else following


def _spans(window: _Window, period: Period) -> list[tuple[date, date]]:
    """Concrete (start, end) spans of a window: one, or one per year of the period."""
    if window.first.year is not None and window.last.year is not None:
        start = window.first.bounds(window.first.year)[0]
        end = window.last.bounds(window.last.year)[1]
        return [(start, end)] if start <= end else [(end, start)]
    crosses = window.first.month_key > window.last.month_key
    spans = []
    for year in range(period.start.year - 1, period.end.year + 1):
        start = window.first.bounds(year)[0]
        end = window.last.bounds(year + 1 if crosses else year)[1]
        start, end = min(start, end), max(start, end)  # "31 - 3 мая" written backwards
        if end in period:
            spans.append((start, end))
    if not spans:  # nothing lands inside: take the first one after the period starts
        year = period.start.year
        start = window.first.bounds(year)[0]
        end = window.last.bounds(year + 1 if crosses else year)[1]
        if end < period.start:
            start, end = window.first.bounds(year + 1)[0], window.last.bounds(year + 1)[1]
        spans.append((min(start, end), max(start, end)))
    return spans


# --- recurrences ---------------------------------------------------------------------------

_DAY_RULE = re.compile(r"(?:не позднее|до|к)\s*(\d{1,2})\s*(?:-?го\s*)?(?:числа|число)")
#: «до 5 рабочего дня», «не позднее 3-го рабочего дня», «в течение 10 рабочих дней».
_WORKING_DAY_RULE = re.compile(r"(\d{1,2})\s*(?:-?(?:го|й|ого|ый)\s*)?рабоч\w*\s+(?:дн|день)")
_NEXT_MONTH = re.compile(
    r"следующ\w* за отчетн\w*|следующ\w* месяц|после окончани|по окончани|по истечени"
    r"|после отчетн|за отчетн"
)
_LAST_MONTH = re.compile(r"последн\w* месяц")
_NUMBERED_TERM = re.compile(r"\b(?:iv|i{1,3}|[1-4])\s*-?\s*(?:я\s+)?четверт")

_MONTHLY = re.compile(
    r"ежемесячн|ежемесечн|кажд\w* месяц|раз\w* в месяц|помесячн|по месяцам|\bв месяц\b"
)
_QUARTERLY = re.compile(
    r"ежекварт|поквартальн|кажд\w* квартал|раз\w* в квартал|по кварталам|по итогам квартал"
)
_HALF_YEARLY = re.compile(
    r"ежеполугод|раз\w* в полугоди|раз\w* в полгода|кажд\w* полугоди|кажды\w* полгода"
    r"|по полугодиям|по итогам полугоди(?!\w*\s+\d)"
)
_WEEKLY = re.compile(r"еженедельн|кажд\w* недел|раз\w* в неделю|по неделям")
_YEARLY = re.compile(r"ежегодн|кажд\w* год|кажд\w* учебн\w* год|(?<!\d )раз\w* в (?:учебн\w* )?год")
_TIMES_A_YEAR = re.compile(r"(\d+)\s*раз\w*\s*в\s*(?:учебн\w*\s*)?год")


def _month_ends_in(period: Period, months: tuple[int, ...] | None = None) -> list[date]:
    out = []
    year, month = period.start.year, period.start.month
    while date(year, month, 1) <= period.end:
        if months is None or month in months:
            out.append(month_end(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [d for d in out if d in period]


def _apply_day_rule(s: str, reporting_ends: list[date], period: Period) -> list[date]:
    """'не позднее N числа …' moves each due date into the right month, on day N;
    'до N рабочего дня месяца, следующего за отчетным' to the Nth working day after it."""
    if working := _WORKING_DAY_RULE.search(s):
        count = int(working.group(1))
        if _NEXT_MONTH.search(s) or re.search(r"рабоч\w* дн\w* (?:после|по окончани)", s):
            return [_add_working_days(end, count) for end in reporting_ends]
        return [
            _add_working_days(end.replace(day=1) - timedelta(days=1), count)
            for end in reporting_ends
        ]
    rule = _DAY_RULE.search(s)
    if not rule:
        return reporting_ends
    day = int(rule.group(1))
    out = []
    for end in reporting_ends:
        if _NEXT_MONTH.search(s):
            nxt = end + timedelta(days=1)
            out.append(_clamped(nxt.year, nxt.month, day))
        else:
            out.append(_clamped(end.year, end.month, day))
    return out


@cache
def _production_calendar() -> Any:
    return holidays.country_holidays("RU")


def _add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day`, by the Russian production calendar."""
    country = _production_calendar()
    for _ in range(count):
        day += timedelta(days=1)
        while not country.is_working_day(day):
            day += timedelta(days=1)
    return day


def _recurring(s: str, period: Period) -> list[date] | None:
    """Due dates of a recurring expression, or None when `s` does not recur."""
    if _MONTHLY.search(s):
        return _apply_day_rule(s, _month_ends_in(period), period)
    if _QUARTERLY.search(s):
        return _apply_day_rule(s, _month_ends_in(period, (3, 6, 9, 12)), period)
    if re.search(r"четверт", s) and not _NUMBERED_TERM.search(s):
        return [
            d
            for year in range(period.start.year, period.end.year + 1)
            for (_, _), (month, day) in _TERMS.values()
            if (d := date(year, month, day)) in period
        ]
    windows = _windows(_tokens(s))
    halves = _HALF_YEARLY.search(s) or (
        re.search(r"полугоди", s) and re.search(r"кажд|в конце полугоди", s)
    )
    if halves and not windows:
        return _apply_day_rule(s, _month_ends_in(period, (6, 12)), period)
    if _WEEKLY.search(s):
        start = period.start + timedelta(days=(4 - period.start.weekday()) % 7)
        return [start + timedelta(weeks=n) for n in range((period.end - start).days // 7 + 1)]
    times = _TIMES_A_YEAR.search(s)
    if not (times or halves or _YEARLY.search(s)):
        return None
    if windows:
        ends = [end for w in windows for _, end in _spans(_yearless(w), period)]
        return sorted(set(ends))
    count = int(times.group(1)) if times else 2 if halves else 1
    if count >= 2:
        months = tuple(12 * (i + 1) // count for i in range(count))
        return _month_ends_in(period, months)
    return [
        d
        for year in range(period.start.year, period.end.year + 1)
        if (d := min(date(year, 12, 31), period.end)) in period
    ]


def _yearless(window: _Window) -> _Window:
    """Under "ежегодно" a written year only anchors the first time: drop it to repeat."""
    return _Window(_with_year(window.first, None), _with_year(window.last, None))


# --- the parser ----------------------------------------------------------------------------


def parse_deadline(text: str | None, period: Period, *, strict: bool = False) -> Schedule:
    """Turn a Russian deadline expression into a schedule inside `period`. Never raises.

    `strict` lets a bug surface as an exception instead (for property tests).
    """
    raw = text or ""
    try:
        return _parse(raw, period)
    except Exception as error:
        if strict:
            raise
        return Schedule(raw, ScheduleKind.NONE, warnings=(f"could not read deadline: {error}",))


#: «в течение 10 дней после…», «в течение месяца после…»: a time after an event, on demand.
_RELATIVE = re.compile(
    r"в течени\w* (?:\d+\s*)?(?:рабоч\w*\s*|календарн\w*\s*)?(?:дн|день|недел|месяц)\w*"
    r"(?:\s+\S+){0,3}\s+(?:после|с момента|со дня|с даты)"
)


def _explicit_in_parentheses(s: str) -> str | None:
    """The parenthesised parts that name a day («в течение года (до 25.05.2024)»): they win
    over the general rule they explain."""
    parts = [
        inner
        for inner in re.findall(r"\(([^()]*)\)", s)
        if any(isinstance(t, _Point) and t.unit == "day" for t in _tokens(inner))
    ]
    return " , ".join(parts) or None


def _parse(raw: str, period: Period) -> Schedule:
    s = normalize(raw)
    if not s:
        return Schedule(raw, ScheduleKind.NONE, warnings=("no deadline given",))
    explicit = _explicit_in_parentheses(s)
    if explicit is not None and explicit != s.strip("() "):
        s = explicit
    if _RELATIVE.search(s) and not _MONTHLY.search(s) and not _QUARTERLY.search(s):
        return Schedule(raw, ScheduleKind.ON_DEMAND)
    recurring = _recurring(s, period)
    if recurring is not None:
        due = tuple(sorted({d for d in recurring if d in period}))
        if not due:
            return Schedule(
                raw, ScheduleKind.RECURRING, warnings=("no due date inside the period",)
            )
        return Schedule(raw, ScheduleKind.RECURRING, start=None, due=due)
    windows = _windows(_tokens(s))
    if _CONTINUOUS.search(s) and not _has_explicit_year(windows):
        return Schedule(raw, ScheduleKind.CONTINUOUS, start=period.start, due=(period.end,))
    if windows:
        return _dated(raw, s, windows, period)
    if _ON_DEMAND.search(s):
        return Schedule(raw, ScheduleKind.ON_DEMAND)
    if _CONTINUOUS.search(s):
        return Schedule(raw, ScheduleKind.CONTINUOUS, start=period.start, due=(period.end,))
    return Schedule(raw, ScheduleKind.NONE, warnings=(f"deadline not understood: {raw!r}",))


def _has_explicit_year(windows: list[_Window]) -> bool:
    return any(w.first.year is not None for w in windows)


def _dated(raw: str, s: str, windows: list[_Window], period: Period) -> Schedule:
    by = re.match(r"^(?:до|не позднее|не позже|к|по|с)\b", s) is not None
    spans = sorted({span for w in windows for span in _spans(w, period)})
    if re.match(r"^(?:по итогам|по окончании|по завершении|по результатам|после)\b", s):
        spans = sorted({(end, end) for _, end in spans})  # "по итогам I четверти": at its end
    elif by:
        # "до 1 сентября": due that day; "до мая": due when May begins; ranges stay ranges
        spans = sorted(
            {
                span
                if w.first is not w.last
                else (end, end)
                if w.first.unit == "day"
                else (start, start)
                for w in windows
                for span in _spans(w, period)
                for start, end in [span]
            }
        )
    outside = tuple(
        f"due date {end.isoformat()} lies outside the roadmap period"
        for _, end in spans
        if end not in period
    )
    if len(spans) > 1:
        inside = tuple(end for _, end in spans if end in period)
        return Schedule(raw, ScheduleKind.RECURRING, due=inside, warnings=outside)
    warnings = outside
    start, end = spans[0]
    if start == end:
        return Schedule(raw, ScheduleKind.DATE, due=(end,), warnings=warnings)
    return Schedule(raw, ScheduleKind.RANGE, start=start, due=(end,), warnings=warnings)
