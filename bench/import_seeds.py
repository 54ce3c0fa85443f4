"""Benchmark: importing each seed document (text, DOCX, XLSX) into a fresh SQLite database.

Run with `make bench` (or `python -m bench.import_seeds`). Prints a Markdown table; the target
is under one second per document.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import workflows
from engine.db import make_engine, unit_of_work
from engine.demo import load_demo
from engine.importing.apply import find_municipality, import_roadmap
from engine.importing.document import read_roadmap
from engine.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders import SEED_FILES, build_docx, build_xlsx  # noqa: E402

REPEATS = 5


def _one(path: Path, workdir: Path, index: int) -> tuple[float, float]:
    """(read seconds, read + write seconds) of one import into a fresh database."""
    engine = make_engine(f"sqlite:///{workdir / f'bench{index}.db'}")
    upgrade(engine)
    with unit_of_work(engine) as session:
        load_demo(session, workflows.REGISTRY, date(2024, 1, 10))
    started = time.perf_counter()
    draft = read_roadmap(path)
    read = time.perf_counter() - started
    with unit_of_work(engine) as session:
        import_roadmap(session, workflows.REGISTRY, draft, find_municipality(session, None))
    total = time.perf_counter() - started
    engine.dispose()
    return read, total


def main() -> None:
    """Time each seed in each format and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print("| seed | format | read (median s) | read + write (median s) | under 1 s |")
        print("|---|---|---|---|---|")
        index = 0
        for seed, text_path in SEED_FILES.items():
            files = {
                "text": text_path,
                "docx": build_docx(seed, workdir / f"{seed}.docx"),
                "xlsx": build_xlsx(seed, workdir / f"{seed}.xlsx"),
            }
            for fmt, path in files.items():
                runs = []
                for _ in range(REPEATS):
                    index += 1
                    runs.append(_one(path, workdir, index))
                read = statistics.median(r for r, _ in runs)
                total = statistics.median(t for _, t in runs)
                print(
                    f"| {seed} | {fmt} | {read:.3f} | {total:.3f} | "
                    f"{'yes' if total < 1 else 'NO'} |"
                )


if __name__ == "__main__":
    main()
