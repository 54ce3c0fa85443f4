"""Build DOCX and XLSX files from the seed texts, the way Word and Excel would hold them."""

from __future__ import annotations

import os
from pathlib import Path

import docx
import openpyxl
from docx.enum.section import WD_ORIENT
from docx.shared import Pt
from openpyxl.styles import Font

from engine.importing.sources import Paragraph, read_text

#: The real roadmaps live in ../shared/seeds beside the repository (ROADMAP_SEEDS overrides).
SEEDS = Path(
    os.environ.get("ROADMAP_SEEDS") or Path(__file__).resolve().parents[2] / "shared" / "seeds"
)
SEED_FILES = {
    "000": SEEDS / "000_ebceac3924bcbe66.txt",
    "001": SEEDS / "001_1ca03add9573aafe.txt",
    "003": SEEDS / "003_edcc1390fe166960.txt",
}


#: Words that open a plan's header row in the seeds, spelt as the seeds spell them; written out
#: here rather than taken from the importer, so that these files do not depend on what they test.
HEADER_WORDS = ("мероприят", "контрольная точка", "наименование")


def _is_header(row: list[str]) -> bool:
    """A table's first row names its columns (a page-broken piece starts with an activity)."""
    return any(word in cell.lower() for cell in row for word in HEADER_WORDS)


def _level_column(row: list[str]) -> int | None:
    """Where the «Уровень управления» column is, if the table has one."""
    return next((i for i, cell in enumerate(row) if "уровень" in cell.lower()), None)


def _grid(blocks) -> list:
    """Paragraphs, and whole tables: page-broken pieces rejoined, short rows re-aligned.

    Returns ("p", text) and ("t", rows, bold, level_index, short_rows) items.
    """
    out: list = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append(("p", block.text))
            continue
        rows, bold = list(block.rows), list(block.bold)
        if not _is_header(rows[0]) and out and out[-1][0] == "t":
            if not any(rows[0]):
                rows, bold = rows[1:], bold[1:]
            out[-1][1].extend(rows)
            out[-1][2].extend(bold)
            continue
        out.append(("t", rows, bold, _level_column(rows[0]), set()))
    for item in out:
        if item[0] != "t":
            continue
        _, rows, _, level, short = item
        width = len(rows[0])
        for index, row in enumerate(rows):
            if len(row) < width and level is not None:
                row.insert(level, "")  # Word merges that cell with the one above
                short.add(index)
            row += [""] * (width - len(row))
            del row[width:]
    return out


def build_docx(seed: str, path: Path) -> Path:
    """A Word file: paragraphs, one bordered table per plan on landscape pages, bold section
    rows merged across."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.styles["Normal"].font.size = Pt(9)
    for item in _grid(read_text(SEED_FILES[seed].read_text(encoding="utf-8"))):
        if item[0] == "p":
            document.add_paragraph(item[1])
            continue
        _, rows, bold, level, short = item
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                cell = table.cell(r, c)
                lines = text.split("\n")
                cell.paragraphs[0].add_run(lines[0]).bold = bold[r]
                for extra in lines[1:]:
                    cell.add_paragraph().add_run(extra).bold = bold[r]
            filled = [c for c, text in enumerate(row) if text]
            if r and len(filled) == 1 and filled[0] < len(row) - 1:
                table.cell(r, filled[0]).merge(table.cell(r, len(row) - 1))
            elif r and len(filled) == 2 and filled[0] == 0 and filled[1] < len(row) - 1:
                table.cell(r, filled[1]).merge(table.cell(r, len(row) - 1))
            if r in short and r > 0:
                above = table.cell(r - 1, level)
                if above.text:
                    merged = above.merge(table.cell(r, level))
                    merged.paragraphs[-1]._p.getparent().remove(merged.paragraphs[-1]._p)
    document.save(path)
    return path


def build_xlsx(seed: str, path: Path) -> Path:
    """An Excel file: the text above the table in single cells, sections bold and merged."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    row_number = 0
    for item in _grid(read_text(SEED_FILES[seed].read_text(encoding="utf-8"))):
        if item[0] == "p":
            row_number += 1
            sheet.cell(row_number, 1, item[1])
            continue
        _, rows, bold, _, _ = item
        for r, row in enumerate(rows):
            row_number += 1
            for c, text in enumerate(row, start=1):
                if text:
                    cell = sheet.cell(row_number, c, text)
                    cell.font = Font(bold=bold[r])
            filled = [c for c, text in enumerate(row, start=1) if text]
            if r and len(filled) == 1 and bold[r] and filled[0] < len(row):
                sheet.merge_cells(
                    start_row=row_number,
                    start_column=filled[0],
                    end_row=row_number,
                    end_column=len(row),
                )
    workbook.save(path)
    return path


def print_to_pdf(document: Path, folder: Path) -> Path:
    """The DOCX or XLSX printed to PDF by LibreOffice, with a profile of its own."""
    import subprocess

    env = os.environ | {"HOME": str(folder)}
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(document)],
        check=True,
        capture_output=True,
        env=env,
        timeout=180,
    )
    return folder / document.with_suffix(".pdf").name
