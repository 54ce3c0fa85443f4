"""One entry point: any supported file → a roadmap draft, or one clear DocumentError."""

from __future__ import annotations

from pathlib import Path

from engine.deadlines.parser import Period
from engine.importing.canonical import read_canonical
from engine.importing.sources import DocumentError, read_blocks
from engine.importing.structure import RoadmapDraft, recover

CANONICAL_SUFFIXES = {".yaml", ".yml", ".json"}


def read_roadmap(path: Path, period: Period | None = None) -> RoadmapDraft:
    """Read a roadmap from `path`; `period` overrides the one the document states."""
    if not path.exists():
        raise DocumentError(f"{path}: no such file")
    if path.suffix.lower() in CANONICAL_SUFFIXES:
        return read_canonical(path, period)
    return recover(read_blocks(path), path.name, period)
