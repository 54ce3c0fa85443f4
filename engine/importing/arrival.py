"""What an import brings before it is written: the work it creates, how much of it is past
due on arrival, and the warnings a coordinator must see (another territory, a period that
has ended, parties nobody could resolve); and what to do with past-due work."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from engine.errors import ValidationError


class PastDue(StrEnum):
    """What happens to work whose due date has passed before it was imported."""

    #: Kept as history: listed, never reminded nor escalated (the default: no flood).
    HISTORY = "history"
    #: The latest past date of each activity and assignee moves to one new common date;
    #: earlier ones are kept as history.
    MOVE = "move"
    #: Kept overdue: the next sweep escalates it.
    KEEP = "keep"


@dataclass(frozen=True)
class Arrival:
    """The day an import arrives and what it does with work already past due."""

    today: date
    past_due: PastDue = PastDue.HISTORY
    moved_to: date | None = None

    def __post_init__(self) -> None:
        if self.past_due is PastDue.MOVE and (self.moved_to is None or self.moved_to < self.today):
            raise ValidationError(
                "past-due work moves to a date from today on", reason="date_not_later"
            )


@dataclass(frozen=True)
class Warning:
    """Something the coordinator must acknowledge before the import is confirmed."""

    code: str  # other_territory, period_over, mostly_past_due, unresolved
    message: str
    #: The figures of the message, for the page to say it in Russian.
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Summary:
    """What writing the draft would create."""

    occurrences: int
    past_due_on_arrival: int
    assignees: int
    unresolved: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "occurrences": self.occurrences,
            "past_due_on_arrival": self.past_due_on_arrival,
            "assignees": self.assignees,
            "unresolved": self.unresolved,
        }


#: Words that name a kind of territory rather than the territory itself.
_GENERIC = re.compile(
    r"^(муниципальн|образовани|городск|сельск|округ|район|город|г|область|област|край|кра"
    r"|республик|автономн|поселени|рабоч|посел|ао|мо|гг|на|в|и|по)"
)
_MUNICIPAL_WORDS = re.compile(r"район|округ|муниципальн\w* образовани")
_REGION_WORDS = re.compile(r"област|кра[йяюе]\b|республик|автономн\w* округ")


def _stems(name: str) -> list[str]:
    """The distinctive words of a territory's name, cut to a stem all their cases share."""
    words = re.findall(r"[а-яё]+(?:-[а-яё]+)?", name.lower().replace("ё", "е"))
    return [w[: max(4, min(len(w) - 2, 7))] for w in words if len(w) > 3 and not _GENERIC.match(w)]


def _names(text: str, stems: list[str]) -> bool:
    low = text.lower().replace("ё", "е")
    return any(stem in low for stem in stems)


def _cut(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def territory_warnings(title: str, municipality: str, region: str | None) -> list[Warning]:
    """Warnings when the document's title names a municipality or region, but not these."""
    found: list[Warning] = []
    low = title.lower()
    stems = _stems(municipality)
    if _MUNICIPAL_WORDS.search(low) and stems and not _names(title, stems):
        found.append(
            Warning(
                "other_territory",
                f"the document names another municipality than {municipality}: «{_cut(title)}»",
                {"target": municipality, "title": _cut(title)},
            )
        )
    region_stems = _stems(region or "")
    if region and _REGION_WORDS.search(low) and region_stems and not _names(title, region_stems):
        if not found:
            found.append(
                Warning(
                    "other_territory",
                    f"the document names another region than {region}: «{_cut(title)}»",
                    {"target": region, "title": _cut(title)},
                )
            )
    return found


def arrival_warnings(period_end: date, today: date, summary: Summary, dated: int) -> list[Warning]:
    """Warnings of a period that has ended, most deadlines already past, unresolved parties."""
    found: list[Warning] = []
    if period_end < today:
        found.append(
            Warning(
                "period_over",
                f"the roadmap's period ended on {period_end:%d.%m.%Y}",
                {"end": period_end},
            )
        )
    if dated and summary.past_due_on_arrival * 2 > dated:
        found.append(
            Warning(
                "mostly_past_due",
                f"{summary.past_due_on_arrival} of {dated} dated tasks are already past due",
                {"past": summary.past_due_on_arrival, "dated": dated},
            )
        )
    if summary.unresolved:
        shown = "; ".join(summary.unresolved[:10])
        more = f" and {len(summary.unresolved) - 10} more" if len(summary.unresolved) > 10 else ""
        found.append(
            Warning(
                "unresolved",
                f"parties nobody could resolve go to the municipality: {shown}{more}",
                {"parties": summary.unresolved},
            )
        )
    return found
