"""A coordinator corrects a roadmap's target indicators: target, unit, direction, baseline,
due date and scope; adds and removes them. Each change is logged beside the activities'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.deadlines.parser import Period
from engine.errors import NotFoundError, ValidationError, check_length
from engine.importing.apply import next_indicator_position
from engine.importing.indicators import UNITS, parse_due, read_number
from engine.models import (
    Indicator,
    IndicatorDirection,
    IndicatorScope,
    Roadmap,
)
from engine.usecases.roadmap_edits import check_can_edit, log_change

#: What a coordinator may change of an indicator; texts with their longest length.
TEXTS = {"number": 20, "title": 5_000, "due_text": 1_000}
NUMBERS = ("target_value", "baseline")
CHOICES: dict[str, tuple[str, ...]] = {
    "unit": UNITS,
    "direction": tuple(str(d) for d in IndicatorDirection),
    "scope": tuple(str(s) for s in IndicatorScope),
}
FIELDS = (*TEXTS, *NUMBERS, *CHOICES)


def values(indicator: Indicator) -> dict[str, Any]:
    """What the change log keeps of an indicator."""
    return {"indicator": True, **{name: getattr(indicator, name) for name in FIELDS}}


def _clean(changes: Mapping[str, str | None]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationError(f"an indicator has no field {unknown[0]!r}")
    cleaned: dict[str, Any] = {}
    for name, raw in changes.items():
        text = (raw or "").strip()
        if name in TEXTS:
            check_length(name.replace("_", " "), text, TEXTS[name])
            cleaned[name] = text or (None if name != "title" else "")
        elif name in NUMBERS:
            cleaned[name] = read_number(name, text)
        else:
            if text and text not in CHOICES[name]:
                raise ValidationError(
                    f"the {name} must be one of {', '.join(CHOICES[name])}, not {text[:40]!r}",
                    reason="unknown_choice",
                )
            cleaned[name] = text or (IndicatorScope.MUNICIPALITY if name == "scope" else None)
    if "title" in cleaned and not cleaned["title"]:
        raise ValidationError("an indicator needs a title", reason="indicator_title_required")
    return cleaned


def _apply(indicator: Indicator, roadmap: Roadmap, cleaned: dict[str, Any]) -> None:
    for name, value in cleaned.items():
        setattr(indicator, name, value)
    if indicator.target_value is not None and indicator.direction is None:
        indicator.direction = IndicatorDirection.AT_LEAST
    if "due_text" in cleaned:
        period = Period(roadmap.period_start, roadmap.period_end)
        due = parse_due(indicator.due_text, period) if indicator.due_text else [period.end]
        if due is None:
            raise ValidationError(
                f"the due date {indicator.due_text!r:.60} could not be read "
                "(for example: к 01.10.2024, ежегодно, декабрь 2025)",
                reason="due_unreadable",
            )
        indicator.due = [d.isoformat() for d in due]


def _indicator(session: Session, actor: Actor, indicator_id: int) -> tuple[Indicator, Roadmap]:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFoundError(f"indicator {indicator_id} does not exist")
    return indicator, check_can_edit(session, actor, indicator.roadmap_id)


def indicator_to_edit(session: Session, actor: Actor, indicator_id: int) -> Indicator:
    """The indicator, if `actor` may correct its roadmap."""
    return _indicator(session, actor, indicator_id)[0]


def _log(
    session: Session,
    actor: Actor,
    indicator: Indicator,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    label = f"{indicator.number + ' ' if indicator.number else ''}{indicator.title}"
    log_change(session, actor, indicator.roadmap_id, label, action, before, after)


def edit_indicator(
    session: Session, actor: Actor, indicator_id: int, changes: Mapping[str, str | None]
) -> Indicator:
    """Change an indicator; a new due text is read again within the roadmap's period."""
    indicator, roadmap = _indicator(session, actor, indicator_id)
    cleaned = _clean(changes)
    before = values(indicator)
    changed = {name: value for name, value in cleaned.items() if before[name] != value}
    if changed:
        _apply(indicator, roadmap, changed)
        after = values(indicator)
        keys = [n for n in FIELDS if before[n] != after[n]]
        _log(
            session,
            actor,
            indicator,
            "edited",
            {"indicator": True, **{n: before[n] for n in keys}},
            {"indicator": True, **{n: after[n] for n in keys}},
        )
        session.flush()
    return indicator


def add_indicator(
    session: Session, actor: Actor, roadmap_id: int, changes: Mapping[str, str | None]
) -> Indicator:
    """A new indicator at the end of the roadmap's list."""
    roadmap = check_can_edit(session, actor, roadmap_id)
    cleaned = _clean({"title": "", "due_text": "", **changes})
    position = next_indicator_position(session, roadmap.id)
    indicator = Indicator(roadmap_id=roadmap_id, title="", position=position)
    _apply(indicator, roadmap, cleaned)
    session.add(indicator)
    session.flush()
    _log(session, actor, indicator, "added", None, values(indicator))
    return indicator


def remove_indicator(session: Session, actor: Actor, indicator_id: int) -> int:
    """Remove an indicator; returns its roadmap."""
    indicator, roadmap = _indicator(session, actor, indicator_id)
    _log(session, actor, indicator, "removed", values(indicator), None)
    session.delete(indicator)
    session.flush()
    return int(roadmap.id or 0)
