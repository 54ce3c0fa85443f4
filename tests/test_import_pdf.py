"""Text PDFs, as Word exports them (here LibreOffice prints the DOCX of each seed), import to
the same roadmap as the DOCX; a PDF with no text layer (a scan) gets a clear error."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import Roadmap
from tests.builders import build_docx, print_to_pdf

pytestmark = pytest.mark.skipif(not shutil.which("soffice"), reason="make office installs it")


def _squeezed(value):  # type: ignore[no-untyped-def]
    """The value with all whitespace taken out of its texts: a PDF spaces text its own way."""
    if isinstance(value, str):
        return re.sub(r"\s+", "", value)
    if isinstance(value, list):
        return [_squeezed(v) for v in value]
    if isinstance(value, dict):
        return {k: _squeezed(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("seed", ["000", "001", "003"])
def test_a_text_pdf_reads_as_its_docx(roadmap, demo, tmp_path, seed) -> None:
    docx = build_docx(seed, tmp_path / f"seed{seed}.docx")
    pdf = print_to_pdf(docx, tmp_path)
    readings = {}
    for path in (docx, pdf):
        code, out, err = roadmap("import", str(path), "--dry-run", "--json")
        assert code == 0, err
        readings[path.suffix] = json.loads(out)
    word, printed = readings[".docx"], readings[".pdf"]
    assert printed["title"] == word["title"] and printed["period"] == word["period"]
    assert len(printed["activities"]) == len(word["activities"]) > 20
    assert _squeezed(printed["activities"]) == _squeezed(word["activities"])
    assert printed["summary"] == word["summary"]  # the same work for the same schools
    spaced = [re.sub(r"\s+", " ", a["title"]) for a in word["activities"]]
    mended = [re.sub(r"\s+", " ", a["title"]) for a in printed["activities"]]
    assert mended == spaced  # words broken across a cell's lines are whole again


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("функционирующи\nми в зоне риска", "функционирующими в зоне риска"),
        ("Разработка и\nутверждение", "Разработка и утверждение"),
        ("материально-\nтехнических", "материально-технических"),
        ("в 2023-\n2024 учебном году", "в 2023-2024 учебном году"),
        ("Совещания:\n- по оборудованию;\n- по ФОР", "Совещания:\n- по оборудованию;\n- по ФОР"),
    ],
)
def test_a_cells_lines_are_one_text(cell: str, text: str) -> None:
    from engine.importing.sources import _cell_text

    assert _cell_text(cell) == text


def test_the_pdf_imports_like_the_docx(roadmap, demo, tmp_path) -> None:
    pdf = print_to_pdf(build_docx("003", tmp_path / "ershichi.docx"), tmp_path)
    code, out, err = roadmap("import", str(pdf), "--json")
    assert code == 0, err
    assert json.loads(out)["activities"] == 34


SCAN = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj
4 0 obj << /Length 36 >> stream
0.6 g 40 40 515 762 re f 0 g 1 w S
endstream endobj
trailer << /Root 1 0 R /Size 5 >>
%%EOF
"""


def test_a_scanned_pdf_is_refused_with_a_clear_error(roadmap, demo, tmp_path) -> None:
    scan = tmp_path / "скан приказа.pdf"
    scan.write_bytes(SCAN)
    code, _, err = roadmap("import", str(scan))
    assert code != 0 and "скан приказа.pdf: the PDF has no text layer (a scan?)" in err
    assert "Traceback" not in err
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(Roadmap)).scalar_one() == 1
