"""One entry point: any supported file → a roadmap draft, or one clear DocumentError."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine.deadlines.parser import Period
from engine.importing.canonical import read_canonical
from engine.importing.sources import MAX_DOCUMENT_BYTES, DocumentError, read_blocks
from engine.importing.structure import RoadmapDraft, recover

CANONICAL_SUFFIXES = {".yaml", ".yml", ".json"}


def read_roadmap(
    path: Path,
    period: Period | None = None,
    layout: Mapping[int, Mapping[str, int]] | None = None,
) -> RoadmapDraft:
    """Read a roadmap from `path`; `period` overrides the one the document states, `layout`
    the fields of the columns of its tables (see `recover`)."""
    if not path.exists():
        raise DocumentError(f"{path}: no such file")
    if path.suffix.lower() in CANONICAL_SUFFIXES:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"{path.name}: a roadmap file may be at most {MAX_DOCUMENT_BYTES // 2**20} MB"
            )
        return read_canonical(path, period)
    return recover(read_blocks(path), path.name, period, layout)
