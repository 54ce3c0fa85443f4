"""A coordinator's corrections of a draft before it is written: the fields of a table's
columns, an activity's deadline or responsible text, a row left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.deadlines.parser import Period, parse_deadline
from engine.errors import check_length
from engine.importing.document import read_roadmap
from engine.importing.sources import DocumentError
from engine.importing.structure import DraftWarning, RoadmapDraft

#: The texts of an activity a coordinator may correct in the preview.
TEXTS = ("deadline_text", "responsible_text")


@dataclass
class Corrections:
    """What to change in a draft; activities are named by their place in the draft."""

    #: The fields of the columns of a table, by the table's place among the roadmap tables.
    columns: dict[int, dict[str, int]] = field(default_factory=dict)
    #: New texts of activities, by the activity's place.
    texts: dict[int, dict[str, str]] = field(default_factory=dict)
    dropped: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.columns or self.texts or self.dropped)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, kept with a queued import."""
        return {
            "columns": {str(t): dict(c) for t, c in self.columns.items()},
            "texts": {str(i): dict(t) for i, t in self.texts.items()},
            "dropped": sorted(self.dropped),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Corrections:
        """Inverse of `to_dict`."""
        data = data or {}
        return cls(
            {
                int(t): {str(k): int(v) for k, v in c.items()}
                for t, c in data.get("columns", {}).items()
            },
            {
                int(i): {str(k): str(v) for k, v in t.items()}
                for i, t in data.get("texts", {}).items()
            },
            {int(i) for i in data.get("dropped", [])},
        )


def read_corrected(
    path: Path, corrections: Corrections | None = None, period: Period | None = None
) -> RoadmapDraft:
    """The draft of the document at `path` with `corrections` applied (`period` overrides
    the document's)."""
    corrections = corrections or Corrections()
    draft = read_roadmap(path, period, layout=corrections.columns)
    return apply_texts(draft, corrections)


def apply_texts(draft: RoadmapDraft, corrections: Corrections) -> RoadmapDraft:
    """Set the corrected texts (a deadline is read again at once) and leave out the dropped
    activities; an activity that is not in the draft is an error, not ignored."""
    count = len(draft.activities)
    unknown = [i for i in (*corrections.texts, *corrections.dropped) if not 0 <= i < count]
    if unknown:
        raise DocumentError(
            f"{draft.source}: the corrections name activity {unknown[0] + 1} of {count}; "
            "read the document again"
        )
    for index, texts in corrections.texts.items():
        activity = draft.activities[index]
        for name, text in texts.items():
            if name not in TEXTS:
                raise DocumentError(f"{draft.source}: {name} cannot be corrected in a preview")
            check_length(name.replace("_", " "), text)
            setattr(
                activity, name, text.strip() if name == "deadline_text" else text.strip() or None
            )
        if "deadline_text" in texts:
            old = activity.schedule.warnings if activity.schedule else ()
            draft.warnings = [
                w
                for w in draft.warnings
                if not (
                    w.row == activity.row and w.activity == activity.number and w.message in old
                )
            ]
            activity.schedule = parse_deadline(activity.deadline_text, draft.period)
            draft.warnings += [
                DraftWarning(activity.row, activity.number, m) for m in activity.schedule.warnings
            ]
    if corrections.dropped:
        kept = [a for i, a in enumerate(draft.activities) if i not in corrections.dropped]
        if not kept:
            raise DocumentError(f"{draft.source}: every activity was left out; nothing to import")
        draft.activities = kept
    if corrections.texts or corrections.dropped:
        draft.read_indicators()
    return draft
