"""A figure measured in rounds: its median and its range, and how it stands to a goal."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def spread(values: Iterable[float]) -> dict[str, float]:
    """The median of `values` with their minimum and maximum."""
    seen = sorted(values)
    if not seen:
        raise ValueError("no rounds were measured")
    return {"median": statistics.median(seen), "min": seen[0], "max": seen[-1]}


def verdict(figure: dict[str, float], goal: float, *, at_least: bool = True) -> str:
    """Whether the median meets `goal`, and whether the spread is wider than the gap to it."""
    met = figure["median"] >= goal if at_least else figure["median"] <= goal
    straddles = figure["min"] < goal < figure["max"]
    if straddles:
        return "met, within the spread" if met else "missed, within the spread"
    return "met" if met else "missed"
